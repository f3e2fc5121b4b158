// Entry module of the chat page's token error pages (missing, expired,
// invalid or refused token).
import { readBoot } from "./boot.js";
import { Bridge, replaceParams, tokenStore, urlWithToken } from "./bridge.js";

const boot = readBoot();
if (boot && boot.mode === "error") start(boot);

/**
 * A token error page. After a reload (the address no longer has the
 * token) resume with the tab's token; inside the widget, ask the parent
 * for a fresh token and come back with it.
 */
function start(boot) {
  const stored = tokenStore.load();
  replaceParams({ token: null });
  if (boot.error === "missing_token" && stored) {
    window.location.replace(urlWithToken(stored));
    return;
  }
  tokenStore.clear();
  const bridge = new Bridge(boot.parentOrigin);
  bridge.closeOnEscape();
  // A fresh token cannot help a system that is not allowed.
  if (!bridge.active || boot.error === "not_allowed") return;
  bridge.on("token", (token) => window.location.replace(urlWithToken(token)));
  bridge.post("token-expired");
}
