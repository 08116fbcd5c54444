/* The compact header (issue 16): the main links fold behind one "Menu" button, so the pinned bar
 * stays one line high whatever the user's roles. On a phone the stylesheet folds them from the
 * first paint; on a wider screen this script folds them only when they would wrap onto a second
 * line. It also writes the bar's real height into --bar, where the checklist's progress line
 * pins itself. A real <button> with aria-expanded; Escape closes the menu and gives focus back
 * to the button; a click elsewhere closes it. (CSSOM writes are not inline styles: the CSP holds.)
 */
(function () {
  "use strict";
  const BAR_MAX = 64; // px: more than this and the links fold

  function init() {
    const button = document.getElementById("menu-button");
    const nav = document.getElementById("main-nav");
    const header = document.querySelector("header.top");
    if (!header) return;
    const phone = window.matchMedia("(max-width: 47.99rem)");

    let bar = "";
    function layout() {
      if (nav && !phone.matches) {
        header.classList.remove("fold");
        header.classList.toggle("fold", header.getBoundingClientRect().height > BAR_MAX);
      }
      // --bar sits on the root, so a write restyles the whole page: only when it changed.
      const height = Math.ceil(header.getBoundingClientRect().height) + "px";
      if (height !== bar) document.documentElement.style.setProperty("--bar", (bar = height));
    }
    // Measured when the browser has laid the page out anyway (a ResizeObserver reports after
    // layout), not while DOMContentLoaded runs, where reading the bar's size forced a layout of
    // the whole page of its own (Lighthouse's "forced reflow": 140 ms on the checklist).
    if (typeof ResizeObserver === "function") new ResizeObserver(() => layout()).observe(header);
    else layout();
    let pending = 0;
    window.addEventListener("resize", () => { cancelAnimationFrame(pending); pending = requestAnimationFrame(layout); });
    if (!button || !nav) return;

    const set = (open) => {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    };
    button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && nav.classList.contains("open")) { set(false); button.focus(); }
    });
    document.addEventListener("click", (e) => {
      if (nav.classList.contains("open") && !header.contains(e.target)) set(false);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
