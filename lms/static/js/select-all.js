/* "Select all" on a list of checkboxes: ticking it ticks every box of its form, and it follows them.
 * Without JavaScript the server reads a ticked "select all" as every item the page listed.
 * No inline script: CSP allows scripts from 'self' only. */
(function () {
  "use strict";

  function init() {
    var forms = document.querySelectorAll("form[data-select-all-form]");
    Array.prototype.forEach.call(forms, function (form) {
      var all = form.querySelector("input[data-select-all]");
      var boxes = Array.prototype.filter.call(
        form.querySelectorAll("input[type=checkbox]"),
        function (box) { return box !== all; }
      );
      if (!all) {
        return;
      }
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
      });
      boxes.forEach(function (box) {
        box.addEventListener("change", function () {
          all.checked = boxes.every(function (other) { return other.checked; });
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
