// Demo page wiring: reads the gateway and credentials from the query string
// and mounts the widget. A real site needs only loader.js (see README).
import init, { mount } from "./widget.js";

const q = new URLSearchParams(location.search);
const log = (line) => {
  document.getElementById("log").textContent += line + "\n";
};

await init();
const config = { gateway: q.get("gateway") || "http://127.0.0.1:8088", lang: q.get("lang") || undefined };
if (q.get("token_url")) {
  config.tokenUrl = q.get("token_url");
} else {
  config.apiKey = q.get("key") || "";
  config.systemId = q.get("system") || "demo";
  config.userId = q.get("user") || "guest";
}
let chat;
try {
  chat = mount(null, config);
} catch (e) {
  log("mount failed: " + e.message);
  throw e;
}
window.chat = chat;
for (const name of ["ready", "opened", "closed", "error", "unread"]) {
  chat.on(name, (detail) => log(`${name} ${JSON.stringify(detail)}`));
}
document.getElementById("open").onclick = () => chat.open();
document.getElementById("toggle").onclick = () => chat.toggle();
document.getElementById("lang").onchange = (e) => chat.setLanguage(e.target.value);
document.getElementById("login").onclick = () => chat.setUser("other-user");
document.getElementById("logout").onclick = () => chat.setUser(null);
