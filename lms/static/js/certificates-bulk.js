/* Issue a cohort's certificates one at a time, with a progress bar.
 *
 * Without JavaScript the form posts to the "issue all" address and the server issues them all in one
 * request. With it, this script takes over the submit: it posts each participant's own issue address
 * (with the form's CSRF token, asking for JSON), moves the <progress> bar after each answer, shows the
 * new number in the table, and lists any refusal. No inline script: CSP allows scripts from 'self' only.
 */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  function init() {
    var form = document.getElementById("bulk-issue");
    if (!form || !window.fetch || !window.FormData) {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var panel = document.getElementById("bulk-progress");
      var bar = document.getElementById("bulk-progress-bar");
      var text = document.getElementById("bulk-progress-text");
      var errors = document.getElementById("bulk-progress-errors");
      var issuedCount = document.getElementById("issued-count");
      var zipLink = document.getElementById("zip-link");
      var token = form.querySelector("input[name=csrf_token]").value;
      var items = Array.prototype.slice.call(form.querySelectorAll("input[name=enrolment]"));
      var total = items.length;
      var done = 0;
      var finished = 0;

      button.disabled = true;
      panel.hidden = false;
      bar.max = total;
      bar.value = 0;
      text.textContent = fill(form.dataset.progressText, { done: 0, total: total });

      function report(name, message) {
        var line = document.createElement("li");
        line.textContent = fill(form.dataset.failedText, { name: name, error: message });
        errors.appendChild(line);
      }

      function next() {
        if (finished === total) {
          text.textContent = fill(form.dataset.doneText, { done: done, total: total });
          if (done > 0 && zipLink) {
            zipLink.hidden = false;
          }
          return;
        }
        var item = items[finished];
        var body = new FormData();
        body.append("csrf_token", token);
        fetch(item.dataset.url, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { Accept: "application/json" }
        })
          .then(function (response) {
            return response.json().catch(function () {
              return { ok: false, error: response.statusText || String(response.status) };
            });
          })
          .then(function (result) {
            if (result.ok) {
              done += 1;
              var cell = document.getElementById("certificate-" + item.value);
              if (cell) {
                var link = document.createElement("a");
                link.href = result.download_url;
                link.textContent = result.number;
                cell.textContent = "";
                cell.appendChild(link);
              }
              if (issuedCount) {
                issuedCount.textContent = String(Number(issuedCount.textContent) + 1);
              }
            } else {
              report(item.dataset.name, result.error);
            }
          })
          .catch(function (error) {
            report(item.dataset.name, error.message);
          })
          .then(function () {
            finished += 1;
            bar.value = finished;
            text.textContent = fill(form.dataset.progressText, { done: finished, total: total });
            next();
          });
      }

      next();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
