// Entry module of the chat page: the controller. Boot data in, user actions
// to API calls, API results to the views. One reply is in flight at a time
// (Send is disabled and Enter ignored until it ends or is stopped).
import { AgentPicker } from "./agents.js";
import { Api, ApiError, isAbort } from "./api.js";
import { readBoot } from "./boot.js";
import { Bridge, replaceParams, tabStore, tokenStore } from "./bridge.js";
import { ConversationDialogs } from "./dialogs.js";
import { Panels } from "./panels.js";
import { Thread, h, icon, renderConversations } from "./view.js";

const boot = readBoot();
if (boot && boot.mode === "chat") start(boot);

function start(boot) {

  const $ = (id) => document.getElementById(id);
  const el = {
    input: $("composer-input"),
    composer: $("composer"),
    send: $("send-btn"),
    stop: $("stop-btn"),
    list: $("conv-list"),
    listEmpty: $("conv-empty"),
    newBtn: $("new-btn"),
    notice: $("notice"),
    banner: $("expired-banner"),
    announcer: $("announcer"),
    langSelect: $("lang-select"),
  };

  const state = {
    token: boot.token,
    lang: boot.lang,
    conversations: [],
    currentId: null,
    busy: false,
    controller: null,
    // The answer in flight ({conversation_id, message_id}), once started.
    streaming: null,
    composing: false,
    expired: false,
    pending: [],
    readyPosted: false,
  };

  const texts = () => boot.texts[state.lang] || boot.texts.en;
  const api = new Api(() => state.token);
  const bridge = new Bridge(boot.parentOrigin);
  const thread = new Thread(texts, (id, rating) => api.feedback(id, rating));
  const conversationKey = "conversation." + boot.systemId + "/" + boot.userId;
  // The answer being streamed, so a reload follows it instead of showing half.
  const streamingKey = "streaming." + boot.systemId + "/" + boot.userId;
  const dialogs = new ConversationDialogs(texts, { rename, remove }, () => el.input.focus());
  const panels = new Panels(() => loadConversations());
  const agents = new AgentPicker(el.composer, () => newConversation(), () => texts().agent);

  // The token leaves the address bar (and so history and shared links); the
  // tab keeps it for a reload.
  tokenStore.save(state.token);
  replaceParams({ token: null });

  // ---- language -----------------------------------------------------------

  function supported(tag) {
    const primary = String(tag || "").trim().toLowerCase().split(/[-_]/)[0];
    return Object.prototype.hasOwnProperty.call(boot.texts, primary) ? primary : null;
  }

  function applyTexts() {
    const t = texts();
    document.querySelectorAll("[data-i18n]").forEach((node) => {
      const value = t[node.dataset.i18n];
      if (value) node.textContent = value;
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((node) => {
      node.placeholder = t[node.dataset.i18nPlaceholder] || "";
    });
    document.querySelectorAll("[data-i18n-aria-label]").forEach((node) => {
      node.setAttribute("aria-label", t[node.dataset.i18nAriaLabel] || "");
    });
    const parts = document.title.split(" · ");
    document.title = t.chat + " · " + parts[parts.length - 1];
  }

  /** Switch the whole page to `tag`; `remember` keeps it across a reload. */
  function setLang(tag, remember) {
    const lang = supported(tag);
    if (!lang) return;
    state.lang = lang;
    document.documentElement.lang = lang;
    if (el.langSelect) el.langSelect.value = lang;
    applyTexts();
    renderList();
    if (remember) replaceParams({ lang });
  }

  // ---- notices, banner, live region ----------------------------------------

  function showNotice(key, kind, source) {
    el.notice.dataset.source = source || "";
    el.notice.replaceChildren(icon(kind === "info" ? "history" : "alert"), h("span", { "data-i18n": key, text: texts()[key] }));
    el.notice.className = "notice " + (kind || "error");
    el.notice.hidden = false;
  }

  function clearNotice() {
    el.notice.hidden = true;
    el.notice.replaceChildren();
  }

  function announce(text) {
    el.announcer.textContent = "";
    window.setTimeout(() => {
      el.announcer.textContent = texts().newReply + ": " + text.slice(0, 400);
    }, 50);
  }

  function errorKey(e) {
    switch (e.code) {
      case "rate_limited":
        return "errorBusy";
      case "network":
      case "stream_cut":
        return "errorNetwork";
      case "validation_failed":
      case "payload_too_large":
        return "errorTooLong";
      case "upstream_error":
      case "upstream_timeout":
      case "not_configured":
      case "shutting_down":
      case "database_unavailable":
      case "internal":
        return "errorUnavailable";
      default:
        return e.isTokenProblem ? "expired" : "errorSend";
    }
  }

  // ---- token lifecycle -------------------------------------------------------

  function markReady() {
    if (state.readyPosted) return;
    state.readyPosted = true;
    bridge.post("ready");
  }

  /**
   * If `e` is a token problem, show the expired state, keep `retry` for when
   * a fresh token arrives, tell the parent, and return true.
   */
  function tokenProblem(e, retry) {
    if (!(e instanceof ApiError) || !e.isTokenProblem) return false;
    if (retry && !state.pending.includes(retry)) state.pending.push(retry);
    if (!state.expired) {
      state.expired = true;
      el.banner.hidden = false;
      updateComposer();
      bridge.post("token-expired");
    }
    return true;
  }

  /** A fresh token from the parent: check it, then redo what failed. */
  async function swapToken(token) {
    state.token = token;
    state.readyPosted = false;
    tokenStore.save(token);
    state.expired = false;
    el.banner.hidden = true;
    updateComposer();
    const pending = state.pending.splice(0).filter((action) => action !== loadConversations);
    await loadConversations();
    if (state.expired) {
      state.pending.push(...pending);
      return;
    }
    for (const action of pending) action();
  }

  // ---- conversations -----------------------------------------------------------

  function renderList() {
    renderConversations(el.list, el.listEmpty, state.conversations, state.currentId, texts, state.lang, {
      open: openConversation,
      rename: (c) => dialogs.askRename(c),
      remove: (c) => dialogs.askDelete(c),
    });
  }

  async function loadConversations() {
    try {
      state.conversations = await api.conversations();
      renderList();
      markReady();
      if (el.notice.dataset.source === "list") clearNotice();
    } catch (e) {
      if (tokenProblem(e, loadConversations)) return;
      showNotice("errorList", "error", "list");
    }
  }

  function setCurrent(id) {
    state.currentId = id;
    tabStore.set(conversationKey, id);
    renderList();
  }

  function forget(id) {
    state.conversations = state.conversations.filter((c) => c.id !== id);
    if (state.currentId === id) setCurrent(null);
    else renderList();
  }

  function rememberStreaming(conversationId, messageId) {
    tabStore.set(streamingKey, JSON.stringify({ conversation_id: conversationId, message_id: messageId }));
  }

  function forgetStreaming() {
    tabStore.set(streamingKey, null);
  }

  /** Stop the answer in flight on the server too, not only its stream here. */
  function stopAnswer() {
    const answer = state.streaming;
    state.streaming = null;
    forgetStreaming();
    if (answer) api.stopAnswer(answer.conversation_id, answer.message_id).catch(() => {});
  }

  function streamingAnswer() {
    try {
      const saved = JSON.parse(tabStore.get(streamingKey) || "null");
      return saved && saved.conversation_id && saved.message_id ? saved : null;
    } catch (_) {
      return null;
    }
  }

  /** Stop the reply in flight because the user moved on (not a reload). */
  function abandonReply() {
    if (state.busy && state.controller) {
      stopAnswer();
      state.controller.abort();
    }
  }

  async function openConversation(id, quiet) {
    panels.closeAll();
    abandonReply();
    setCurrent(id);
    thread.clear();
    clearNotice();
    try {
      const messages = await api.messages(id);
      if (state.currentId !== id) return;
      thread.clear();
      for (const m of messages) thread.addStored(m);
      thread.follow(true);
      return messages;
    } catch (e) {
      if (state.currentId !== id) return;
      if (tokenProblem(e, () => openConversation(id, quiet))) return;
      if (e.code === "conversation_not_found") {
        forget(id);
        thread.clear();
        if (!quiet) showNotice("conversationGone", "info");
        return;
      }
      showNotice("errorMessages");
    }
  }

  function newConversation() {
    panels.closeAll();
    abandonReply();
    setCurrent(null);
    thread.clear();
    clearNotice();
    el.input.focus();
  }

  async function rename(conversation, name) {
    try {
      const renamed = await api.rename(conversation.id, name);
      state.conversations = state.conversations.map((c) => (c.id === renamed.id ? renamed : c));
      renderList();
    } catch (e) {
      if (tokenProblem(e)) return;
      if (e.code === "conversation_not_found") forget(conversation.id);
      else showNotice("errorRename");
    }
  }

  async function remove(conversation) {
    try {
      await api.remove(conversation.id);
    } catch (e) {
      if (tokenProblem(e)) return;
      if (e.code !== "conversation_not_found") {
        showNotice("errorDelete");
        return;
      }
    }
    const wasCurrent = state.currentId === conversation.id;
    forget(conversation.id);
    if (wasCurrent) newConversation();
  }

  // ---- sending -------------------------------------------------------------------

  function updateComposer() {
    el.send.disabled = state.busy || state.expired;
    el.stop.hidden = !state.busy;
    el.composer.classList.toggle("busy", state.busy);
  }

  function setBusy(busy) {
    const stopHadFocus = document.activeElement === el.stop;
    state.busy = busy;
    updateComposer();
    if (!busy && stopHadFocus) el.input.focus();
  }

  function autosize() {
    el.input.style.height = "auto";
    el.input.style.height = Math.min(el.input.scrollHeight, 200) + "px";
  }

  function send() {
    if (state.busy || state.expired) return;
    const text = el.input.value.trim();
    if (!text) return;
    el.input.value = "";
    autosize();
    clearNotice();
    panels.closeAll();
    runTurn(text, thread.addUser(text), false);
  }

  // The id under which a user message is stored, once the gateway said it.
  const storedIds = new WeakMap();

  /** One turn: stream the reply to `text`, shown under `userMessage`. */
  async function runTurn(text, userMessage, afterStaleConversation) {
    setBusy(true);
    const controller = new AbortController();
    state.controller = controller;
    const conversationId = state.currentId;
    const reply = thread.addAssistant();
    reply.typing(true);
    let streamError = null;
    const body = { message: text, inputs: { language: state.lang } };
    if (conversationId) body.conversation_id = conversationId;
    const agent = agents.agentFor(conversationId);
    if (agent) body.agent = agent;
    // Retrying a message the gateway kept: reuse it instead of storing a copy.
    if (conversationId && storedIds.has(userMessage)) body.retry_message_id = storedIds.get(userMessage);
    const retry = () => {
      reply.remove();
      userMessage.clearFailure();
      runTurn(text, userMessage, false);
    };
    try {
      await api.chat(body, controller.signal, (name, data) => {
        thread.mark();
        if (name === "start") {
          rememberStreaming(data.conversation_id, data.message_id);
          state.streaming = { conversation_id: data.conversation_id, message_id: data.message_id };
          storedIds.set(userMessage, data.user_message_id);
          if (!conversationId) agents.started(data.conversation_id, agent);
          if (data.conversation_id !== state.currentId) setCurrent(data.conversation_id);
        } else if (name === "delta") {
          reply.delta(String(data.text || ""));
        } else if (name === "replace") {
          reply.replace(String(data.text || ""));
        } else if (name === "html") {
          reply.html(String(data.html || ""));
        } else if (name === "end") {
          forgetStreaming();
          reply.end(data.html, data.message_id);
          announce(reply.plainText());
          bridge.post("reply", { conversation_id: data.conversation_id });
        } else if (name === "error") {
          forgetStreaming();
          streamError = new ApiError(data.code, data.message, data.status);
        }
        thread.follow();
      });
      if (streamError) throw streamError;
    } catch (e) {
      reply.typing(false);
      if (isAbort(e)) {
        reply.note("stopped");
      } else if (e.code === "conversation_not_found" && conversationId && !afterStaleConversation) {
        // The conversation is gone (deleted elsewhere, or a stale id): start
        // a new one with the same message instead of getting stuck.
        forget(conversationId);
        thread.keepOnly(userMessage);
        showNotice("conversationGone", "info");
        setBusy(false);
        state.controller = null;
        return runTurn(text, userMessage, true);
      } else {
        // The message is stored even though the turn failed: show it in its
        // conversation, so Retry continues there instead of starting another.
        if (e.messageId) storedIds.set(userMessage, e.messageId);
        if (e.conversationId && !state.currentId) setCurrent(e.conversationId);
        if (reply.isEmpty) reply.remove();
        else reply.note("incomplete");
        if (tokenProblem(e, retry)) {
          userMessage.fail("expired");
        } else {
          userMessage.fail(errorKey(e), retry);
        }
      }
    } finally {
      if (state.controller === controller) {
        state.controller = null;
        state.streaming = null;
        setBusy(false);
      }
    }
    if (!state.expired) loadConversations();
  }

  /**
   * After a reload: follow the answer that was streaming, shown under the
   * stored messages of its conversation; nothing when it is stored already.
   */
  async function resumeAnswer(pending, messages) {
    if (messages.some((m) => m.id === pending.message_id)) {
      forgetStreaming();
      return;
    }
    setBusy(true);
    const controller = new AbortController();
    state.controller = controller;
    state.streaming = pending;
    const reply = thread.addAssistant();
    reply.typing(true);
    let streamError = null;
    try {
      await api.resume(pending.conversation_id, pending.message_id, null, controller.signal, (name, data) => {
        thread.mark();
        if (name === "delta") {
          reply.delta(String(data.text || ""));
        } else if (name === "replace") {
          reply.replace(String(data.text || ""));
        } else if (name === "html") {
          reply.html(String(data.html || ""));
        } else if (name === "end") {
          forgetStreaming();
          reply.end(data.html, data.message_id);
          announce(reply.plainText());
        } else if (name === "error") {
          forgetStreaming();
          streamError = new ApiError(data.code, data.message, data.status);
        }
        thread.follow();
      });
      if (streamError) throw streamError;
    } catch (e) {
      reply.typing(false);
      if (isAbort(e)) {
        reply.note("stopped");
      } else {
        forgetStreaming();
        if (reply.isEmpty) reply.remove();
        else reply.note("incomplete");
        tokenProblem(e);
      }
    } finally {
      if (state.controller === controller) {
        state.controller = null;
        state.streaming = null;
        setBusy(false);
      }
    }
  }

  // ---- wiring ---------------------------------------------------------------------------

  el.composer.addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  el.input.addEventListener("compositionstart", () => (state.composing = true));
  el.input.addEventListener("compositionend", () => (state.composing = false));
  el.input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    // Shift+Enter is a new line; Enter that confirms an IME composition
    // (Korean, Japanese, Chinese input) must never send.
    if (e.shiftKey || e.isComposing || e.keyCode === 229 || state.composing) return;
    e.preventDefault();
    send();
  });
  el.input.addEventListener("input", autosize);
  el.stop.addEventListener("click", () => {
    stopAnswer();
    if (state.controller) state.controller.abort();
  });
  el.newBtn.addEventListener("click", newConversation);
  if (el.langSelect) el.langSelect.addEventListener("change", () => setLang(el.langSelect.value, true));
  bridge.on("token", swapToken);
  bridge.on("lang", (lang) => setLang(lang, true));
  bridge.closeOnEscape();

  // ---- start ------------------------------------------------------------------------------

  if (boot.langSource === "default") {
    const preferred = (navigator.languages || [navigator.language]).map(supported).find(Boolean);
    if (preferred && preferred !== state.lang) setLang(preferred, false);
  }
  updateComposer();
  thread.clear();
  const saved = tabStore.get(conversationKey);
  api.agents().then((list) => agents.show(list && list.agents), () => {});
  loadConversations().then(async () => {
    if (!saved || state.currentId || state.expired) return;
    const messages = await openConversation(saved, true);
    const pending = streamingAnswer();
    if (messages && pending && pending.conversation_id === saved && state.currentId === saved) {
      resumeAnswer(pending, messages);
    }
  });
  if (!boot.embed) el.input.focus();
}
