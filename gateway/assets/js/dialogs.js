// The rename and delete-confirmation dialogs (native modal <dialog>s: focus
// stays inside, Escape cancels). They only ask; `actions.rename(conv,
// name)` and `actions.remove(conv)` do the work.

export class ConversationDialogs {
  constructor(texts, actions, fallbackFocus) {
    const $ = (id) => document.getElementById(id);
    this.texts = texts;
    this.fallbackFocus = fallbackFocus;
    this.target = null;
    this.opener = null;
    this.renameDialog = $("rename-dialog");
    this.renameInput = $("rename-input");
    this.deleteDialog = $("delete-dialog");
    this.deleteBody = $("delete-body");
    this.deleteCancel = $("delete-cancel");

    $("rename-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const conversation = this.target;
      const name = this.renameInput.value.trim();
      this.renameDialog.close();
      if (conversation && name && name !== conversation.name) actions.rename(conversation, name);
    });
    $("rename-cancel").addEventListener("click", () => this.renameDialog.close());
    $("delete-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const conversation = this.target;
      this.deleteDialog.close();
      if (conversation) actions.remove(conversation);
    });
    this.deleteCancel.addEventListener("click", () => this.deleteDialog.close());
    for (const dialog of [this.renameDialog, this.deleteDialog]) {
      dialog.addEventListener("close", () => this.restoreFocus());
    }
  }

  open(dialog, conversation) {
    this.target = conversation;
    this.opener = document.activeElement;
    dialog.showModal();
  }

  /** Back to the control that opened the dialog (or the composer, if gone). */
  restoreFocus() {
    if (this.opener && document.contains(this.opener)) this.opener.focus();
    else this.fallbackFocus();
  }

  askRename(conversation) {
    this.renameInput.value = conversation.name || "";
    this.open(this.renameDialog, conversation);
    this.renameInput.select();
  }

  askDelete(conversation) {
    const t = this.texts();
    this.deleteBody.textContent = t.deleteBody.replace("{name}", conversation.name || t.untitled);
    this.open(this.deleteDialog, conversation);
    this.deleteCancel.focus();
  }
}
