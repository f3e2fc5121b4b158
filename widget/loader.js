// tz-chat widget loader. A page needs one line:
//
//   <script type="module" src="https://cdn.example.com/tz-chat/loader.js"
//           data-token-url="/api/chat-token" data-gateway="https://chat.example.com"></script>
//
// The loader paints the launcher itself (a few kilobytes, no WASM), then
// loads the widget module when the visitor points at the launcher, focuses
// or presses it, or when the browser is idle; the widget then takes the
// launcher's place, pixel for pixel. A press before the widget is ready opens
// the panel as soon as it is.
//
// Attributes: data-token-url, data-gateway, data-lang, data-open, data-preload,
// data-target (CSS selector; default body), data-load ("idle", the default, or
// "interaction": load only on pointer, focus or press), and — seed-compatible,
// unsafe — data-api-key, data-system-id, data-user-id.
// The handle is window.tzChat; the `tz-chat:ready` (etc.) DOM events bubble
// to document, and `tz-chat:mounted` fires on document once mounted.

const self = [...document.querySelectorAll("script[type=module][src]")].find(
  (s) => s.src === import.meta.url,
);
const d = self ? self.dataset : {};
const on = (v) => v !== undefined && v !== "false";

// The launcher's accessible name, as the widget words it (the SDK's UiTexts).
const OPEN = {
  en: "Open chat",
  es: "Abrir chat",
  ko: "채팅 열기",
  zh: "打开聊天",
  ja: "チャットを開く",
};
// The language the widget will pick: configured, the page's, the browser's.
const lang = [d.lang, document.documentElement.lang, ...navigator.languages]
  .map((tag) => (tag || "").slice(0, 2).toLowerCase())
  .find((l) => l in OPEN) || "en";

// The widget's own launcher rules (style.css), so the swap does not show.
const CSS = `:host{all:initial}
.root{position:fixed;right:20px;bottom:20px;z-index:var(--tz-chat-z-index,1040)}
.launcher{display:flex;align-items:center;justify-content:center;width:56px;height:56px;padding:0;border:0;border-radius:50%;background:var(--tz-chat-accent,#2563eb);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);transition:transform .15s ease}
.launcher:hover{transform:scale(1.05)}
.launcher:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}
.launcher svg{width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}}`;

const target = (d.target && document.querySelector(d.target)) || document.body;
const host = document.createElement("div");
host.setAttribute("data-tz-chat-loader", "");
const root = host.attachShadow({ mode: "open" });
root.innerHTML =
  `<div class="root"><button type="button" class="launcher" aria-expanded="false">` +
  `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 5h16v11H9l-5 4z"/></svg>` +
  `</button></div>`;
try {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];
} catch {
  root.prepend(Object.assign(document.createElement("style"), { textContent: CSS }));
}
const button = root.querySelector("button");
button.setAttribute("aria-label", OPEN[lang]);
button.title = OPEN[lang];
target.append(host);

let pressed = false;
let loading = null;

function load() {
  loading ||= start().catch((e) => {
    // The page keeps working without chat; say why in the console.
    console.error("tz-chat: the widget did not load", e);
    button.setAttribute("aria-disabled", "true");
  });
  return loading;
}

async function start() {
  const { default: init, mount } = await import("./widget.js");
  await init();
  const hadFocus = root.activeElement === button;
  const handle = mount(d.target || null, {
    tokenUrl: d.tokenUrl,
    gateway: d.gateway,
    lang: d.lang,
    apiKey: d.apiKey,
    systemId: d.systemId,
    userId: d.userId,
    open: pressed || on(d.open),
    preload: on(d.preload),
  });
  window.tzChat = handle;
  // Both launchers sit on the same spot; drop ours once the widget's is drawn.
  const swap = () => {
    const real = document.querySelector("[data-tz-chat-widget]")?.shadowRoot?.querySelector(".launcher");
    if (!real) return requestAnimationFrame(swap);
    if (hadFocus && !handle.isOpen) real.focus();
    host.remove();
  };
  swap();
  document.dispatchEvent(new CustomEvent("tz-chat:mounted", { detail: handle }));
}

button.addEventListener("click", () => {
  pressed = true;
  button.setAttribute("aria-busy", "true");
  load();
});
for (const event of ["pointerenter", "focus", "touchstart"]) {
  button.addEventListener(event, load, { once: true, passive: true });
}
if (on(d.open) || on(d.preload)) {
  load();
} else if (d.load !== "interaction") {
  const idle = () =>
    (window.requestIdleCallback || ((f) => setTimeout(f, 1)))(load, { timeout: 4000 });
  if (document.readyState === "complete") idle();
  else addEventListener("load", idle, { once: true });
}
