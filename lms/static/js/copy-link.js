/* "Copy link": copies the text of the field named by the button's data-copy and says so in the
 * page's status line. The button is hidden without JavaScript (the field can be selected by hand).
 * No inline script: CSP allows scripts from 'self' only. */
(function () {
  "use strict";

  function say(text) {
    var status = document.getElementById("copy-status");
    if (status) {
      status.textContent = text;
    }
  }

  function copyFrom(field, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        fallback(field, done);
      });
      return;
    }
    fallback(field, done);
  }

  function fallback(field, done) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
    try {
      if (document.execCommand("copy")) {
        done();
      }
    } catch (error) {
      /* the text stays selected: the person copies it themselves */
    }
  }

  function init() {
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        copyFrom(field, function () {
          say(button.getAttribute("data-copied-text") || "");
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
