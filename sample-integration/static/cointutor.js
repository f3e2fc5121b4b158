// CoinTutor's redirect and iframe options: ask the backend for a chat URL
// (GET /api/chat-url, the session cookie says who), then go there or show it.
const errorBox = document.getElementById("option-error");

async function chatUrl(embed) {
  const query = new URLSearchParams({ lang: document.documentElement.lang || "en" });
  if (embed) query.set("embed", "1");
  const response = await fetch("/api/chat-url?" + query, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || typeof body.url !== "string") {
    throw new Error((body.error && body.error.message) || "HTTP " + response.status);
  }
  return body.url;
}

function showError(e) {
  if (!errorBox) return;
  errorBox.textContent = "Could not get a chat URL: " + e.message;
  errorBox.hidden = false;
}

const redirect = document.getElementById("redirect-btn");
if (redirect) {
  redirect.addEventListener("click", async () => {
    redirect.disabled = true;
    try {
      location.assign(await chatUrl(false));
    } catch (e) {
      showError(e);
      redirect.disabled = false;
    }
  });
}

const frame = document.getElementById("chat-frame");
if (frame) {
  chatUrl(true).then((url) => (frame.src = url), showError);
}
