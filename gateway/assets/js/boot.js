// The data the server put into a page: `<script type="application/json"
// id="boot">` (never executed; the strict CSP allows no inline script).

/** The page's boot data, or null on a page without any. */
export function readBoot() {
  const el = document.getElementById("boot");
  return el ? JSON.parse(el.textContent) : null;
}
