/* Redline: keyboard labelling of preference comparisons. The page works without this file (the
 * buttons and the ranking field are real forms); it adds shortcuts and measures the time spent.
 *   two outputs:  1 A much better, 2 A better, 3 tie, 4 B better, 5 B much better, 0 both bad
 *   3+ outputs:   the outputs' numbers in order of preference (1-9, 0 for the tenth),
 *                 Enter submits the ranking, Backspace clears it
 *   s skip, u undo the last label
 * Keys are ignored while typing in a field and while a request is on its way. The time from
 * showing a comparison to submitting it goes in the hidden `seconds` field; the server checks it. */
(function () {
  "use strict";

  var shownAt = null;      // performance.now() when the current comparison appeared
  var shownId = null;      // its comparison id
  var busy = false;

  function queue() { return document.getElementById("queue"); }

  function letter(index) { return String.fromCharCode(65 + index); }

  function isTyping(target) {
    if (!target || !target.closest) return false;
    return target.isContentEditable || !!target.closest("input, textarea, select, [contenteditable]");
  }

  function click(button) {
    if (button && !button.disabled) button.click();
  }

  /* Ranking ------------------------------------------------------------------------------- */

  function rankingField() { return document.getElementById("ranking"); }

  function currentRanking() {
    var field = rankingField();
    if (!field || !field.value.trim()) return [];
    return field.value.split(/[\s,;>]+/).filter(Boolean).map(function (token) {
      return /^[a-j]$/i.test(token) ? token.toUpperCase().charCodeAt(0) - 65 : parseInt(token, 10) - 1;
    }).filter(function (i) { return !isNaN(i); });
  }

  function showRanking(ranking) {
    var field = rankingField();
    var list = document.getElementById("ranking-order");
    var clear = document.getElementById("ranking-clear");
    if (!field) return;
    field.value = ranking.map(letter).join(", ");
    if (list) {
      list.textContent = "";
      ranking.forEach(function (index) {
        var item = document.createElement("li");
        item.textContent = "Output " + letter(index);
        list.appendChild(item);
      });
    }
    if (clear) clear.hidden = ranking.length === 0;
    document.querySelectorAll("#queue .output").forEach(function (output) {
      var place = ranking.indexOf(parseInt(output.dataset.index, 10));
      var badge = output.querySelector(".rank-badge");
      output.classList.toggle("ranked", place >= 0);
      if (badge) badge.textContent = place >= 0 ? " · #" + (place + 1) : "";
    });
  }

  function rankAdd(index) {
    var n = parseInt(queue().dataset.outputs, 10);
    var ranking = currentRanking();
    if (index >= n || ranking.indexOf(index) >= 0) return;
    ranking.push(index);
    showRanking(ranking);
  }

  function rankSubmit() {
    var n = parseInt(queue().dataset.outputs, 10);
    var ranking = currentRanking();
    if (ranking.length === n - 1) {  // the last one goes last
      for (var i = 0; i < n; i++) if (ranking.indexOf(i) < 0) ranking.push(i);
      showRanking(ranking);
    }
    if (ranking.length === n) click(document.getElementById("ranking-submit"));
  }

  /* Keys ---------------------------------------------------------------------------------- */

  document.addEventListener("keydown", function (event) {
    var box = queue();
    if (!box || busy || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    var mode = box.dataset.mode;
    var key = event.key;
    if (key === "u") {
      click(document.getElementById("undo-button"));
    } else if (key === "s" && mode !== "empty") {
      click(document.getElementById("skip-button"));
    } else if (mode === "pair" && /^[0-5]$/.test(key)) {
      click(box.querySelector('button[data-key="' + key + '"]'));
    } else if (mode === "ranking" && /^[0-9]$/.test(key)) {
      rankAdd(key === "0" ? 9 : parseInt(key, 10) - 1);
    } else if (mode === "ranking" && key === "Enter" && !(event.target.closest && event.target.closest("button, a"))) {
      rankSubmit();
    } else if (mode === "ranking" && key === "Backspace") {
      showRanking([]);
    } else {
      return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#ranking-clear")) showRanking([]);
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "ranking") showRanking(currentRanking());
  });

  /* Time spent and focus -------------------------------------------------------------------- */

  function shown() {
    var box = queue();
    if (!box) return;
    var id = box.dataset.comparison || null;
    if (id !== shownId) {  // a new comparison (an error on the same one keeps its clock)
      shownId = id;
      shownAt = performance.now();
    }
    if (box.dataset.mode === "ranking") showRanking(currentRanking());
  }

  /* Before htmx reads the form: the seconds since the comparison appeared. */
  document.addEventListener("submit", function (event) {
    var field = event.target.querySelector && event.target.querySelector("#seconds");
    if (field && shownAt !== null) field.value = ((performance.now() - shownAt) / 1000).toFixed(3);
  }, true);

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.closest && event.target.closest("#queue")) busy = true;
  });
  document.addEventListener("htmx:afterRequest", function () { busy = false; });

  document.addEventListener("htmx:afterSwap", function () {
    var box = queue();  /* the only swaps of the labelling page are of #queue */
    if (!box) return;
    shown();
    /* The new item takes the focus (screen readers read it), without jumping the page. */
    box.focus({ preventScroll: true });
    if (box.getBoundingClientRect().top < 0) box.scrollIntoView({ block: "start" });
  });

  document.addEventListener("DOMContentLoaded", shown);
})();
