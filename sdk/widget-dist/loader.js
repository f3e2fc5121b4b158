// tz-chat widget loader: mounts the widget from this script tag's data-*
// attributes, so a page needs one line:
//
//   <script type="module" src="https://cdn.example.com/tz-chat/loader.js"
//           data-token-url="/api/chat-token" data-gateway="https://chat.example.com"></script>
//
// Attributes: data-token-url, data-gateway, data-lang, data-open, data-preload,
// data-target (CSS selector; default body), and — seed-compatible, unsafe —
// data-api-key, data-system-id, data-user-id.
// The handle is window.tzChat; the `tz-chat:ready` (etc.) DOM events bubble
// to document, and `tz-chat:mounted` fires on document once mounted.
import init, { mount } from "./widget.js";

const self = [...document.querySelectorAll("script[type=module][src]")].find(
  (s) => s.src === import.meta.url,
);
const d = self ? self.dataset : {};
await init();
window.tzChat = mount(d.target || null, {
  tokenUrl: d.tokenUrl,
  gateway: d.gateway,
  lang: d.lang,
  apiKey: d.apiKey,
  systemId: d.systemId,
  userId: d.userId,
  open: d.open !== undefined && d.open !== "false",
  preload: d.preload !== undefined && d.preload !== "false",
});
document.dispatchEvent(new CustomEvent("tz-chat:mounted", { detail: window.tzChat }));
