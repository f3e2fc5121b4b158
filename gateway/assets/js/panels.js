// Panels that open over the chat: the conversation drawer on narrow
// screens (full mode) and the "recent" menu (embed mode). Escape or a click
// outside closes them; an Escape used that way is marked handled, so it does
// not also close the widget around the page. `onRecent()` runs when the
// recent menu opens.

export class Panels {
  constructor(onRecent) {
    const $ = (id) => document.getElementById(id);
    this.menuBtn = $("menu-btn");
    this.scrim = $("scrim");
    this.recentBtn = $("recent-btn");
    this.recentPanel = $("recent-panel");
    this.onRecent = onRecent;

    if (this.menuBtn) {
      this.menuBtn.addEventListener("click", () => this.setDrawer(!this.drawerOpen));
      this.scrim.addEventListener("click", () => this.setDrawer(false));
    }
    if (this.recentBtn) {
      this.recentBtn.addEventListener("click", () => this.setRecent(!this.recentOpen));
      document.addEventListener("click", (e) => {
        if (this.recentOpen && !this.recentPanel.contains(e.target) && !this.recentBtn.contains(e.target)) {
          this.setRecent(false);
        }
      });
    }
    document.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      // preventDefault: the key is used up (the widget must not close too).
      if (this.recentOpen) {
        e.preventDefault();
        this.setRecent(false);
        this.recentBtn.focus();
      } else if (this.drawerOpen) {
        e.preventDefault();
        this.setDrawer(false);
        this.menuBtn.focus();
      }
    });
  }

  get drawerOpen() {
    return document.body.classList.contains("drawer-open");
  }

  get recentOpen() {
    return !!this.recentPanel && !this.recentPanel.hidden;
  }

  setDrawer(open) {
    if (!this.menuBtn) return;
    document.body.classList.toggle("drawer-open", open);
    this.menuBtn.setAttribute("aria-expanded", String(open));
    this.scrim.hidden = !open;
  }

  setRecent(open) {
    if (!this.recentPanel) return;
    this.recentPanel.hidden = !open;
    this.recentBtn.setAttribute("aria-expanded", String(open));
    if (open) {
      this.onRecent();
      const first = this.recentPanel.querySelector("button");
      if (first) first.focus();
    }
  }

  closeAll() {
    if (this.drawerOpen) this.setDrawer(false);
    if (this.recentOpen) this.setRecent(false);
  }
}
