/* Feedback pages: the "print this report" button. Without JavaScript the browser's own
 * print menu prints the same page (the print stylesheet is in coso.css). */
(function () {
  "use strict";
  function wire(root) {
    root.querySelectorAll("[data-print]").forEach((button) => {
      button.hidden = false;
      if (button.dataset.wired) return;
      button.dataset.wired = "1";
      button.addEventListener("click", () => window.print());
    });
  }
  wire(document);
  document.body.addEventListener("htmx:afterSwap", (event) => wire(event.target));
})();
