/* Administration pages: ask before a form (or a button) marked data-confirm does something
 * hard to undo; in the checklist editor, keep the total weight live and hold the publish
 * button while the form has edits that are not saved.
 * Without JavaScript the forms simply post (and the server refuses to publish unsaved
 * edits); nothing here is needed for them to work.
 */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const submitter = event.submitter;
    const question = (submitter && submitter.dataset && submitter.dataset.confirm) ||
      (form instanceof HTMLFormElement ? form.dataset.confirm : "");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);

  const editor = document.getElementById("template-editor");
  if (!editor) {
    return;
  }
  const publish = document.getElementById("publish");
  const note = document.querySelector("[data-unsaved-note]");
  const output = document.getElementById("weight-total");

  /* What the form would post, to tell an edit from the state the page was drawn in. */
  function snapshot() {
    return new URLSearchParams(new FormData(editor)).toString();
  }

  function total() {
    let sum = 0;
    editor.querySelectorAll("fieldset.item-row").forEach(function (row) {
      const removed = row.querySelector("[data-remove]");
      const weight = row.querySelector("[data-weight]");
      if (weight && !(removed && removed.checked)) {
        const value = parseInt(weight.value, 10);
        sum += Number.isNaN(value) ? 0 : value;
      }
    });
    return sum;
  }

  const drawn = snapshot();
  const unsavedOnArrival = publish ? publish.disabled : false;

  function refresh() {
    if (output) {
      const sum = total();
      output.textContent = String(sum);
      output.classList.toggle("field-error", sum !== 100);
    }
    if (publish) {
      const dirty = unsavedOnArrival || snapshot() !== drawn;
      publish.disabled = dirty;
      if (note) {
        note.hidden = !dirty;
      }
    }
  }

  editor.addEventListener("input", refresh);
  editor.addEventListener("change", refresh);
})();
