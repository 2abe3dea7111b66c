/* A submit button shows that it works: after the first click it is disabled and says it is busy.
 *
 * The busy text comes from the page (<body data-busy-text>, translated there): no text in this file
 * and no inline script (the Content-Security-Policy allows scripts from 'self' only). The button is
 * disabled after the submit event has been handled, so its own name and value are still sent. The
 * buttons come back when the page is shown again (back/forward cache) and, when the page is still
 * here a few seconds later, because the answer was a file. Without JavaScript the server still makes
 * a second send harmless (lms/idempotent_forms.py).
 */
(function () {
  "use strict";

  var BACK_AFTER_MS = 6000;

  function buttonsOf(form) {
    var inside = Array.prototype.slice.call(
      form.querySelectorAll("button:not([type]), button[type=submit], input[type=submit]")
    );
    var outside = form.id
      ? Array.prototype.slice.call(document.querySelectorAll("[form='" + form.id + "'][type=submit]"))
      : [];
    return inside.concat(outside);
  }

  function restore(form) {
    delete form.dataset.busy;
    buttonsOf(form).forEach(function (button) {
      if (button.dataset.idleText === undefined) {
        return;
      }
      if (button.tagName === "INPUT") {
        button.value = button.dataset.idleText;
      } else {
        button.textContent = button.dataset.idleText;
      }
      delete button.dataset.idleText;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  function busy(form, submitter) {
    var text = document.body.dataset.busyText || "";
    buttonsOf(form).forEach(function (button) {
      if (button.disabled) {
        return;
      }
      button.disabled = true;
      if (button === submitter || !submitter) {
        button.dataset.idleText = button.tagName === "INPUT" ? button.value : button.textContent;
        if (text) {
          if (button.tagName === "INPUT") {
            button.value = text;
          } else {
            button.textContent = text;
          }
        }
        button.setAttribute("aria-busy", "true");
      } else {
        button.dataset.idleText = button.tagName === "INPUT" ? button.value : button.textContent;
      }
    });
    window.setTimeout(function () {
      restore(form);
    }, BACK_AFTER_MS);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) {
      return; // a script of the page took the send over (certificates-bulk.js)
    }
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") {
      return; // searches and filters change nothing
    }
    if (form.dataset.busy) {
      event.preventDefault(); // the first send is on its way
      return;
    }
    form.dataset.busy = "true";
    var submitter = event.submitter || null;
    // After the submit event: a disabled button's name and value would not be sent.
    window.setTimeout(function () {
      busy(form, submitter);
    }, 0);
  });

  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-busy]"), restore);
  });
})();
