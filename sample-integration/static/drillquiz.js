// DrillQuiz's widget, seed-compatible: the page gives the widget a gateway
// API key and a user id, and the widget asks the gateway's /v1/chat-token
// itself. Unsafe for real users (see the page); kept for migrations.
//
// The user id is the signed-in user (data-user-id), or else an id of this
// browser's own, kept in localStorage, so anonymous visitors do not all
// share one history as they did with the seed's single "anonymous" user.
import init, { mount } from "/tz-chat/widget.js";

const ANONYMOUS_KEY = "drillquiz.anonymous-id";

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "anonymous-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function anonymousId() {
  try {
    let id = localStorage.getItem(ANONYMOUS_KEY);
    if (!id) {
      id = randomId();
      localStorage.setItem(ANONYMOUS_KEY, id);
    }
    return id;
  } catch (_) {
    return randomId(); // storage blocked: an id for this visit only
  }
}

const tag = [...document.querySelectorAll("script[type=module][src]")].find(
  (s) => s.src === import.meta.url,
);
const d = tag ? tag.dataset : {};
const userId = d.userId || anonymousId();
const shown = document.getElementById("drillquiz-user");
if (shown) shown.textContent = userId;

await init();
window.tzChat = mount(null, {
  gateway: d.gateway,
  apiKey: d.apiKey,
  systemId: d.systemId,
  userId,
});
document.dispatchEvent(new CustomEvent("tz-chat:mounted", { detail: window.tzChat }));
