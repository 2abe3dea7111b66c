/* The cohort matrix on a tablet: each cell's number field becomes one button, and one shared level
 * picker (<dialog id="level-picker">) sets the new level of the cell it was opened from.
 *
 * Without JavaScript the page works as it is sent: type a level in the number fields, save once. With
 * it, the field stays in the form as a hidden input, so the server reads the same names and values.
 * Keyboard: Tab to a cell, Enter or Space opens the picker (Tab or arrows to a level, Enter chooses,
 * Escape closes); on a cell, 1-4 set the level directly and 0, Backspace or Delete clear it; the arrow
 * keys move between cells. Texts come from the page (translated there); no inline script (CSP).
 */
(function () {
  "use strict";

  function init() {
    var table = document.getElementById("matrix");
    var picker = document.getElementById("level-picker");
    if (!table || !picker || typeof picker.showModal !== "function") {
      return; // no dialog support: the number fields stay
    }
    var title = document.getElementById("picker-title");
    var itemText = document.getElementById("picker-item");
    var nowText = document.getElementById("picker-now");
    var details = document.getElementById("picker-details");
    var pending = document.getElementById("matrix-pending");
    var levels = Array.prototype.slice.call(picker.querySelectorAll(".picker__level"));
    var allowed = levels.map(function (b) { return b.dataset.level; }).filter(Boolean);
    var current = null; // the cell button the picker was opened from

    function textOf(id) {
      var element = document.getElementById(id);
      return element ? element.textContent.trim() : "";
    }

    function describe(button) {
      var input = button.cellInput;
      var label = textOf(button.dataset.person) + ", " + textOf(button.dataset.item) + ": " +
        picker.dataset.now + " " + button.dataset.reached;
      return input.value ? label + ", " + picker.dataset.new + " " + input.value : label;
    }

    function show(button) {
      var value = button.cellInput.value;
      button.textContent = button.dataset.reached;
      if (value) {
        var arrow = document.createElement("span");
        arrow.className = "mc__new";
        arrow.textContent = " → " + value;
        button.appendChild(arrow);
      }
      button.parentNode.classList.toggle("mc--changed", Boolean(value));
      button.setAttribute("aria-label", describe(button));
      if (pending) {
        var count = table.querySelectorAll(".mc--changed").length;
        pending.textContent = count ? pending.dataset.text + " " + count : "";
      }
    }

    function choose(button, value) {
      button.cellInput.value = value && allowed.indexOf(value) >= 0 ? value : "";
      show(button);
    }

    function open(button) {
      current = button;
      title.textContent = textOf(button.dataset.person) + " · " + textOf(button.dataset.item);
      var abbr = document.getElementById(button.dataset.item);
      itemText.textContent = abbr ? abbr.title : "";
      nowText.textContent = picker.dataset.now + ": " + button.dataset.reached;
      details.href = button.dataset.href;
      var value = button.cellInput.value;
      var focus = levels[0];
      levels.forEach(function (level) {
        var on = level.dataset.level === value;
        level.setAttribute("aria-pressed", on ? "true" : "false");
        if (on) {
          focus = level;
        }
      });
      picker.showModal();
      focus.focus();
    }

    function close() {
      if (picker.open) {
        picker.close();
      }
    }

    // The close event comes a moment after the dialog closed: a keyboard user may have moved on in
    // the grid already (an arrow right after Enter). Only bring focus back when it is not there.
    picker.addEventListener("close", function () {
      if (current && !table.contains(document.activeElement)) {
        current.focus();
      }
    });
    levels.forEach(function (level, index) {
      level.addEventListener("click", function () {
        if (current) {
          choose(current, level.dataset.level);
        }
        close();
      });
      level.addEventListener("keydown", function (event) {
        var step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
        if (step) {
          event.preventDefault();
          levels[(index + step + levels.length) % levels.length].focus();
        }
      });
    });
    picker.querySelector("[data-close]").addEventListener("click", close);
    picker.addEventListener("click", function (event) {
      if (event.target === picker) {
        close(); // a tap beside the picker
      }
    });

    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var grid = rows.map(function (row) {
      return Array.prototype.map.call(row.querySelectorAll("td.mc"), function (cell) {
        var input = cell.querySelector("input");
        var link = cell.querySelector("a");
        if (!input || !link) {
          return null;
        }
        var ids = (input.getAttribute("aria-labelledby") || "").split(" ");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "mc__button";
        button.setAttribute("aria-haspopup", "dialog");
        button.dataset.person = ids[1] || "";
        button.dataset.item = ids[2] || "";
        button.dataset.reached = link.textContent.trim();
        button.dataset.href = link.getAttribute("href");
        button.cellInput = input;
        input.type = "hidden";
        input.removeAttribute("aria-labelledby");
        cell.replaceChild(button, link);
        show(button);
        return button;
      });
    });

    function move(button, rowStep, columnStep) {
      for (var r = 0; r < grid.length; r++) {
        var c = grid[r].indexOf(button);
        if (c >= 0) {
          var row = grid[r + rowStep];
          var target = row && row[c + columnStep];
          if (target) {
            target.focus();
          }
          return;
        }
      }
    }

    table.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".mc__button") : null;
      if (button) {
        open(button);
      }
    });
    table.addEventListener("keydown", function (event) {
      var button = event.target;
      if (!button.classList || !button.classList.contains("mc__button") || event.altKey ||
          event.ctrlKey || event.metaKey) {
        return;
      }
      var arrows = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (arrows[event.key]) {
        event.preventDefault();
        move(button, arrows[event.key][0], arrows[event.key][1]);
      } else if (allowed.indexOf(event.key) >= 0) {
        event.preventDefault();
        choose(button, event.key);
      } else if (event.key === "0" || event.key === "Backspace" || event.key === "Delete") {
        event.preventDefault();
        choose(button, "");
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
