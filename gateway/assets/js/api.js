// Calls to the gateway's /v1 API (same origin, `Authorization: Bearer`).
// Failures become an ApiError with the gateway's machine code (`code`), the
// HTTP status and the server's message; a network failure has code
// "network" and status 0.

import { SseDecoder } from "./sse.js";

const TOKEN_CODES = new Set([
  "token_expired",
  "token_invalid_signature",
  "token_malformed",
  "token_missing_claims",
  "missing_credentials",
]);

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    // For a failed chat turn: where the user's message is stored.
    this.conversationId = null;
    this.messageId = null;
  }

  /** The chat token is the problem: a fresh one would fix it. */
  get isTokenProblem() {
    return TOKEN_CODES.has(this.code);
  }
}

async function errorFrom(res) {
  let code = "http_" + res.status;
  let message = "";
  let stored = null;
  try {
    const body = await res.json();
    if (body && body.error && typeof body.error.code === "string") {
      code = body.error.code;
      message = String(body.error.message || "");
      if (body.error.message_id) stored = body.error;
    } else if (body && body.detail) {
      message = String(body.detail);
    }
  } catch (_) {
    // Not JSON (a proxy's page): the status code is all we have.
  }
  const error = new ApiError(code, message, res.status);
  if (stored) {
    error.conversationId = String(stored.conversation_id || "") || null;
    error.messageId = String(stored.message_id);
  }
  return error;
}

export function isAbort(e) {
  return e && e.name === "AbortError";
}

export class Api {
  /** `getToken()` returns the current chat token. */
  constructor(getToken) {
    this.getToken = getToken;
  }

  headers(extra) {
    return Object.assign(
      { Authorization: "Bearer " + this.getToken(), Accept: "application/json" },
      extra || {}
    );
  }

  /** A JSON request; resolves to the parsed body (null for 204). */
  async request(method, path, body) {
    const init = { method, headers: this.headers(), cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError("network", String(e && e.message), 0);
    }
    if (!res.ok) throw await errorFrom(res);
    if (res.status === 204) return null;
    return res.json();
  }

  agents() {
    return this.request("GET", "/v1/agents");
  }

  conversations() {
    return this.request("GET", "/v1/conversations?limit=100");
  }

  messages(id) {
    return this.request("GET", "/v1/conversations/" + encodeURIComponent(id) + "/messages?html=true");
  }

  rename(id, name) {
    return this.request("PATCH", "/v1/conversations/" + encodeURIComponent(id), { name });
  }

  /** Rate an answer: "like", "dislike", or null to clear. */
  feedback(id, rating) {
    return this.request("POST", "/v1/messages/" + encodeURIComponent(id) + "/feedback", { rating });
  }

  remove(id) {
    return this.request("DELETE", "/v1/conversations/" + encodeURIComponent(id));
  }

  /**
   * Send a message and stream the reply. `onEvent(name, data)` gets every
   * event (`start`, `delta`, `replace`, `html`, `end`, `error`). Resolves
   * when the stream ends; rejects with an ApiError for failures before the
   * stream started, or when it broke off without `end`/`error`; rejects with
   * the AbortError when `signal` aborts.
   */
  async chat(body, signal, onEvent) {
    let res;
    try {
      res = await fetch("/v1/chat", {
        method: "POST",
        headers: this.headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
        body: JSON.stringify(Object.assign({ stream: true, html: true }, body)),
        cache: "no-store",
        signal,
      });
    } catch (e) {
      if (isAbort(e)) throw e;
      throw new ApiError("network", String(e && e.message), 0);
    }
    if (!res.ok) throw await errorFrom(res);
    return readEvents(res, onEvent);
  }

  /** Stop an answer at once (leaving its stream alone lets it go on a while). */
  stopAnswer(conversationId, messageId) {
    return this.request(
      "DELETE",
      "/v1/conversations/" + encodeURIComponent(conversationId) + "/messages/" + encodeURIComponent(messageId) + "/stream"
    );
  }

  /**
   * Reattach to the answer `messageId` of `conversationId` (after a reload):
   * from `lastEventId`, or from its start without one. Events and outcomes
   * as `chat`: the text not yet seen as one `delta`, then the rest.
   */
  async resume(conversationId, messageId, lastEventId, signal, onEvent) {
    const path =
      "/v1/conversations/" + encodeURIComponent(conversationId) +
      "/messages/" + encodeURIComponent(messageId) + "/stream?html=true";
    const headers = this.headers({ Accept: "text/event-stream" });
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    let res;
    try {
      res = await fetch(path, { headers, cache: "no-store", signal });
    } catch (e) {
      if (isAbort(e)) throw e;
      throw new ApiError("network", String(e && e.message), 0);
    }
    if (!res.ok) throw await errorFrom(res);
    return readEvents(res, onEvent);
  }
}

/** Read an event stream to its end: `onEvent(name, data, id)` for each. */
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const text = new TextDecoder();
  const sse = new SseDecoder();
  let ended = false;
  const deliver = (events) => {
    for (const ev of events) {
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch (_) {
        continue;
      }
      if (ev.event === "end" || ev.event === "error") ended = true;
      onEvent(ev.event, data, ev.id);
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      deliver(sse.push(text.decode(value, { stream: true })));
    }
  } catch (e) {
    if (isAbort(e)) throw e;
    throw new ApiError("network", String(e && e.message), 0);
  }
  deliver(sse.push(text.decode()));
  deliver(sse.finish());
  if (!ended) throw new ApiError("stream_cut", "", 0);
}
