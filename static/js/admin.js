/* Administration pages: ask before a form marked data-confirm does something hard to undo.
 * Without JavaScript the forms simply post; nothing here is needed for them to work.
 */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);
})();
