// Entry module of the front page. The page works without it; it adds a
// Copy button to each snippet and says, for screen readers too, when the
// snippet was copied.

const status = document.getElementById("front-status");

for (const button of document.querySelectorAll("button[data-copy]")) {
  if (!navigator.clipboard) continue;
  const label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = button.dataset.copied;
      if (status) status.textContent = button.dataset.copied;
      setTimeout(() => {
        button.textContent = label;
      }, 2000);
    } catch {
      // Clipboard refused (permissions): the snippet stays there to select.
    }
  });
}
