// The page's ties to the world outside it: the parent window (the widget,
// postMessage protocol v1), the tab's session storage (the token survives a
// reload after it left the address bar) and the address bar itself.
//
// Protocol v1, page -> parent, always with the parent's exact origin:
//   {source: "tz-chat", version: 1, type: "ready" | "token-expired" | "reply" | "close", ...}
// ("close": Esc was pressed in the page and nothing of the page's own used it)
// parent -> page, accepted only from that origin and from window.parent:
//   {source: "tz-chat-widget", version: 1, type: "token", token}
//   {source: "tz-chat-widget", version: 1, type: "lang", lang}

const TOKEN_KEY = "tz-chat.token";

export class Bridge {
  /** `parentOrigin` was checked by the server; null means "never post". */
  constructor(parentOrigin) {
    this.parentOrigin = parentOrigin || null;
    this.handlers = {};
    if (this.active) {
      window.addEventListener("message", (e) => this.receive(e));
    }
  }

  get active() {
    return this.parentOrigin !== null && window.parent !== window;
  }

  on(type, handler) {
    this.handlers[type] = handler;
  }

  post(type, extra) {
    if (!this.active) return;
    const msg = Object.assign({ source: "tz-chat", version: 1, type }, extra || {});
    window.parent.postMessage(msg, this.parentOrigin);
  }

  /**
   * Esc inside the page cannot reach the widget (key events stay in the
   * iframe), so the page asks it to close its panel. Only for a key press
   * the page itself did not use: not while one of its dialogs is open, not
   * when a menu or drawer closed on it (they mark the event handled with
   * preventDefault), and not when it cancels an IME composition. Listening
   * on window runs after every handler on the document.
   */
  closeOnEscape() {
    if (!this.active) return;
    window.addEventListener("keydown", (e) => {
      if (e.key !== "Escape" || e.defaultPrevented || e.isComposing || e.keyCode === 229) return;
      if (document.querySelector("dialog[open]")) return;
      this.post("close");
    });
  }

  receive(e) {
    if (e.origin !== this.parentOrigin || e.source !== window.parent) return;
    const d = e.data;
    if (!d || typeof d !== "object" || d.source !== "tz-chat-widget" || d.version !== 1) return;
    if (d.type === "token" && typeof d.token === "string" && d.token.length > 0) {
      if (this.handlers.token) this.handlers.token(d.token);
    } else if (d.type === "lang" && typeof d.lang === "string") {
      if (this.handlers.lang) this.handlers.lang(d.lang);
    }
  }
}

// Session storage can be unavailable (blocked third-party storage): then
// the token simply lives in memory only.
export const tokenStore = {
  save(token) {
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch (_) {}
  },
  load() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch (_) {
      return null;
    }
  },
  clear() {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {}
  },
};

/** Per-tab memory of small values (the open conversation). */
export const tabStore = {
  get(key) {
    try {
      return sessionStorage.getItem("tz-chat." + key);
    } catch (_) {
      return null;
    }
  },
  set(key, value) {
    try {
      if (value === null || value === undefined) sessionStorage.removeItem("tz-chat." + key);
      else sessionStorage.setItem("tz-chat." + key, value);
    } catch (_) {}
  },
};

/** Change query parameters of the address without a navigation. */
export function replaceParams(changes) {
  const url = new URL(window.location.href);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
}

/** This page's address with `token` in it. */
export function urlWithToken(token) {
  const url = new URL(window.location.href);
  url.searchParams.set("token", token);
  return url.pathname + url.search + url.hash;
}
