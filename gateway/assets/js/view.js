// DOM pieces of the chat page: the message thread and the conversation
// list. Texts come from the current language table (`texts()`); every
// element showing a table text carries `data-i18n`, so a language switch
// re-labels what is already on screen. User text and titles are set as
// text; only the server's sanitised HTML of a reply goes in as markup.

const SVG = "http://www.w3.org/2000/svg";

/** Create an element: h("p", {class: "x"}, "text", child, ...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    el.append(child);
  }
  return el;
}

/** An icon from the page's sprite. */
export function icon(name, cls) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", cls || "icon");
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", "#i-" + name);
  svg.append(use);
  return svg;
}

/** A text from the table that follows language switches. */
function label(texts, key, tag, cls) {
  return h(tag || "span", { class: cls, "data-i18n": key, text: texts()[key] || "" });
}

class UserMessage {
  constructor(texts, text) {
    this.texts = texts;
    this.text = text;
    this.meta = h("div", { class: "msg-meta" });
    this.el = h(
      "article",
      { class: "msg msg-user" },
      h("div", { class: "bubble" }, label(texts, "you", "span", "sr-only"), h("p", { class: "msg-text", text })),
      this.meta
    );
  }

  note(key) {
    this.meta.replaceChildren(label(this.texts, key, "span", "msg-note"));
  }

  /** Show a localized error and, with `onRetry`, a Retry button. */
  fail(key, onRetry) {
    const row = h("div", { class: "msg-error", role: "alert" }, icon("alert"), label(this.texts, key));
    if (onRetry) {
      const retry = h("button", { type: "button", class: "link-btn retry-btn", onclick: onRetry }, icon("retry"));
      retry.append(label(this.texts, "retry"));
      row.append(retry);
    }
    this.meta.replaceChildren(row);
    this.el.classList.add("failed");
  }

  clearFailure() {
    this.meta.replaceChildren();
    this.el.classList.remove("failed");
  }
}

/**
 * Thumbs up and down under a finished answer. A click sets that rating, a
 * second click on the pressed one clears it; `rate(id, rating)` stores it
 * (resolving to the gateway's answer) and the buttons show what the gateway
 * kept. Clicks are sent in order, one at a time.
 */
class RatingButtons {
  constructor(texts, messageId, feedback, rate) {
    this.texts = texts;
    this.messageId = messageId;
    this.rate = rate;
    this.rating = (feedback && feedback.rating) || null;
    this.queue = Promise.resolve();
    this.like = this.button("like", "thumb-up");
    this.dislike = this.button("dislike", "thumb-down");
    this.status = h("span", { class: "rate-error", role: "status" });
    this.el = h("div", { class: "msg-actions" }, this.like, this.dislike, this.status);
    this.show();
  }

  button(value, iconName) {
    return h(
      "button",
      {
        type: "button",
        class: "icon-btn rate-btn",
        "data-rating": value,
        "aria-pressed": "false",
        "aria-label": this.texts()[value],
        "data-i18n-aria-label": value,
        onclick: () => this.choose(this.rating === value ? null : value),
      },
      icon(iconName)
    );
  }

  show() {
    this.like.setAttribute("aria-pressed", String(this.rating === "like"));
    this.dislike.setAttribute("aria-pressed", String(this.rating === "dislike"));
  }

  choose(rating) {
    const before = this.rating;
    this.rating = rating;
    this.status.replaceChildren();
    this.show();
    this.queue = this.queue.then(async () => {
      try {
        const stored = await this.rate(this.messageId, rating);
        this.rating = (stored && stored.feedback && stored.feedback.rating) || null;
      } catch (_) {
        this.rating = before;
        this.status.replaceChildren(label(this.texts, "errorFeedback"));
      }
      this.show();
    });
  }
}

class AssistantMessage {
  constructor(texts) {
    this.texts = texts;
    this.raw = "";
    this.htmlUpTo = 0;
    this.body = h("div", { class: "markdown" });
    this.tail = h("span", { class: "tail" });
    this.typingEl = h(
      "span",
      { class: "typing" },
      h("span", { class: "dot" }),
      h("span", { class: "dot" }),
      h("span", { class: "dot" }),
      label(texts, "typing", "span", "sr-only")
    );
    this.meta = h("div", { class: "msg-meta" });
    this.bubble = h("div", { class: "bubble" }, label(texts, "assistant", "span", "sr-only"), this.body, this.tail);
    this.column = h("div", { class: "msg-body" }, this.bubble, this.meta);
    this.el = h(
      "article",
      { class: "msg msg-assistant" },
      h("div", { class: "avatar", "aria-hidden": "true" }, icon("logo", "avatar-logo")),
      this.column
    );
  }

  typing(on) {
    if (on) this.bubble.append(this.typingEl);
    else this.typingEl.remove();
    this.el.classList.toggle("is-typing", on);
  }

  /** Text arrived: show it after the last rendered HTML. */
  delta(text) {
    this.typing(false);
    this.raw += text;
    this.tail.textContent = this.raw.slice(this.htmlUpTo);
  }

  replace(text) {
    this.typing(false);
    this.raw = text;
    this.htmlUpTo = 0;
    this.body.replaceChildren();
    this.tail.textContent = text;
  }

  /** Sanitised HTML of the whole answer so far (rendered by the server). */
  html(markup) {
    this.typing(false);
    this.body.innerHTML = markup;
    this.htmlUpTo = this.raw.length;
    this.tail.textContent = "";
  }

  /** The answer is complete; stored as `messageId`, it can be rated. */
  end(markup, messageId) {
    if (typeof markup === "string") this.html(markup);
    this.typing(false);
    this.el.classList.add("done");
    if (messageId) this.offerRating(messageId, null);
  }

  /** Thumbs up/down for the stored answer `id`, showing `feedback`. */
  offerRating(id, feedback) {
    if (this.ratingButtons || !this.onRate) return;
    this.ratingButtons = new RatingButtons(this.texts, id, feedback, this.onRate);
    this.column.append(this.ratingButtons.el);
  }

  note(key, cls) {
    this.meta.replaceChildren(label(this.texts, key, "span", cls || "msg-note"));
    // Stopped before anything arrived: only the note is worth showing.
    if (this.isEmpty) this.el.classList.add("empty");
  }

  get isEmpty() {
    return this.raw.length === 0;
  }

  /** Plain text of the rendered answer (for the live region). */
  plainText() {
    return (this.body.innerText + this.tail.textContent).trim() || this.raw.trim();
  }

  remove() {
    this.el.remove();
  }
}

export class Thread {
  /** `rate(messageId, rating)` stores a rating (see RatingButtons). */
  constructor(texts, rate) {
    this.texts = texts;
    this.rate = rate;
    this.root = document.getElementById("thread");
    this.scroller = document.getElementById("messages");
    this.empty = document.getElementById("empty-state");
  }

  clear() {
    this.root.replaceChildren();
    this.update();
  }

  /** Show only `message` (the rest belonged to a conversation that is gone). */
  keepOnly(message) {
    this.root.replaceChildren(message.el);
    this.update();
  }

  update() {
    this.empty.hidden = this.root.childElementCount > 0;
  }

  nearEnd() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 96;
  }

  /** Keep the newest content in view, unless the reader scrolled up. */
  follow(force) {
    if (force || this.stick) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  add(message) {
    this.stick = this.nearEnd();
    this.root.append(message.el);
    this.update();
    return message;
  }

  addUser(text) {
    const m = this.add(new UserMessage(this.texts, text));
    this.follow(true);
    return m;
  }

  addAssistant() {
    const m = this.add(this.assistant());
    this.follow(true);
    return m;
  }

  /** A stored message, as listed by the API (with `html` for replies). */
  addStored(m) {
    if (m.role === "user") {
      const u = this.add(new UserMessage(this.texts, m.content));
      if (m.status === "failed") u.note("notAnswered");
      return u;
    }
    const a = this.add(this.assistant());
    a.raw = m.content;
    if (typeof m.html === "string") {
      a.html(m.html);
    } else {
      a.tail.textContent = m.content;
    }
    a.end();
    a.offerRating(m.id, m.feedback);
    if (m.status !== "complete") a.note("incomplete");
    return a;
  }

  assistant() {
    const a = new AssistantMessage(this.texts);
    a.onRate = this.rate;
    return a;
  }

  /** Call before changing a streaming message, then `follow()`. */
  mark() {
    this.stick = this.nearEnd();
  }
}

/** Short "5 minutes ago" style time, in `lang`. */
function relativeTime(iso, lang) {
  const then = new Date(iso);
  if (isNaN(then)) return "";
  const seconds = Math.round((then.getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  try {
    const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
    if (abs < 60) return rtf.format(0, "second");
    if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
    if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
    if (abs < 7 * 86400) return rtf.format(Math.round(seconds / 86400), "day");
    return then.toLocaleDateString(lang, { month: "short", day: "numeric" });
  } catch (_) {
    return then.toLocaleDateString();
  }
}

/**
 * Draw the conversation list. `actions` has `open(id)`, `rename(conv)`
 * and `remove(conv)`.
 */
export function renderConversations(list, emptyEl, conversations, currentId, texts, lang, actions) {
  const t = texts();
  const focusedId = list.contains(document.activeElement)
    ? document.activeElement.closest("li") && document.activeElement.closest("li").dataset.id
    : null;
  const focusedRole = focusedId ? document.activeElement.dataset.role : null;
  list.replaceChildren();
  for (const c of conversations) {
    const title = c.name || t.untitled;
    const current = c.id === currentId;
    const open = h(
      "button",
      {
        type: "button",
        class: "conv-open",
        "data-role": "open",
        "aria-current": current ? "true" : null,
        onclick: () => actions.open(c.id),
      },
      h("span", { class: "conv-title", text: title }),
      h("span", { class: "conv-time", text: relativeTime(c.updated_at, lang) })
    );
    const rename = h(
      "button",
      {
        type: "button",
        class: "icon-btn conv-action",
        "data-role": "rename",
        "aria-label": t.rename + ": " + title,
        title: t.rename,
        onclick: () => actions.rename(c),
      },
      icon("edit")
    );
    const remove = h(
      "button",
      {
        type: "button",
        class: "icon-btn conv-action danger",
        "data-role": "remove",
        "aria-label": t.delete + ": " + title,
        title: t.delete,
        onclick: () => actions.remove(c),
      },
      icon("trash")
    );
    const item = h("li", { class: current ? "conv current" : "conv", "data-id": c.id }, open, h("div", { class: "conv-actions" }, rename, remove));
    list.append(item);
    if (c.id === focusedId) {
      const again = item.querySelector('[data-role="' + focusedRole + '"]');
      if (again) again.focus();
    }
  }
  emptyEl.hidden = conversations.length > 0;
}
