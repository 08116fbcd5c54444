/* Live counts (issue 16, item 10): after an htmx action (acknowledge, reply, accept, decline,
 * close, mark read...) the server answers with an HX-Trigger header whose "coso-counts" event
 * holds the new counts (coso/feedback/counts.py). This writes each number into every element
 * marked data-count-of="<name>" (capped by data-count-cap), hides each data-count-box="<name>" at
 * zero and marks each data-count-hot="<name>" while it is not. One way for every count.
 */
(function () {
  "use strict";
  function each(selector, fn) {
    document.querySelectorAll(selector).forEach(fn);
  }
  function apply(counts) {
    Object.keys(counts).forEach((name) => {
      if (!/^[a-z-]+$/.test(name)) return;
      const n = Math.max(0, Number(counts[name]) || 0);
      each('[data-count-of="' + name + '"]', (el) => {
        const cap = Number(el.dataset.countCap || 0);
        el.textContent = cap && n > cap ? cap + "+" : String(n);
      });
      each('[data-count-box="' + name + '"]', (el) => { el.hidden = n === 0; });
      each('[data-count-hot="' + name + '"]', (el) => el.classList.toggle("fb-hot", n > 0));
    });
  }
  document.addEventListener("coso-counts", (event) => {
    const detail = event.detail || {};
    if (detail.counts && typeof detail.counts === "object") apply(detail.counts);
  });
})();
