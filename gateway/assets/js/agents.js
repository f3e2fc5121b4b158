// The agent picker: shown when the user's system offers more than one named
// agent (GET /v1/agents). A new conversation goes to the picked agent; a
// conversation started here keeps the agent it started with, and picking
// another agent starts a new conversation.

export class AgentPicker {
  /**
   * `mount` is the element the picker is inserted before; `onSwitch()` is
   * called when the user picks another agent; `label()` gives the picker's
   * label in the page's language.
   */
  constructor(mount, onSwitch, label) {
    this.mount = mount;
    this.onSwitch = onSwitch;
    this.label = label;
    this.select = null;
    this.byConversation = new Map();
  }

  /** Show the picker for `agents` (`[{name, title, description}]`). */
  show(agents) {
    if (this.select || !Array.isArray(agents) || agents.length < 2) return;
    const label = document.createElement("label");
    label.className = "agent-picker";
    const caption = document.createElement("span");
    caption.textContent = this.label();
    caption.dataset.i18n = "agent";
    caption.className = "sr-only";
    const select = document.createElement("select");
    select.id = "agent-select";
    for (const agent of agents) {
      const option = document.createElement("option");
      option.value = String(agent.name);
      option.textContent = String(agent.title || agent.name);
      if (agent.description) option.title = String(agent.description);
      select.appendChild(option);
    }
    select.addEventListener("change", () => this.onSwitch());
    label.append(caption, select);
    this.mount.parentNode.insertBefore(label, this.mount);
    this.select = select;
  }

  /** The agent to name for a message in `conversationId` (null: a new one). */
  agentFor(conversationId) {
    if (conversationId) return this.byConversation.get(conversationId) || null;
    return this.select ? this.select.value : null;
  }

  /** Remember that `conversationId` was started with `agent`. */
  started(conversationId, agent) {
    if (agent) this.byConversation.set(conversationId, agent);
  }
}
