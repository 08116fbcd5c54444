/* The compact header (issue 16): on a phone the main links fold behind one "Menu" button, so the
 * pinned bar stays one line high whatever the user's roles. Without this script the button stays
 * hidden and the links simply wrap in the bar. A real <button> with aria-expanded; Escape closes
 * the menu and gives focus back to the button; a click elsewhere closes it.
 */
(function () {
  "use strict";
  function init() {
    const button = document.getElementById("menu-button");
    const nav = document.getElementById("main-nav");
    if (!button || !nav) return;
    const header = button.closest(".top");
    header.classList.add("has-menu");
    button.hidden = false;
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
