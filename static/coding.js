/* Redline: keyboard work on a coding problem. The page works without this file; it only adds
 * shortcuts on top of real forms.
 *   j / k  focus the next / previous candidate or test
 *   a      accept: the candidate in focus as the solution, or the test in focus as valid
 *   r      reject the candidate or test in focus
 *   e      edit the test in focus
 * Keys are ignored while typing in a field. The focus survives htmx swaps of #work. */
(function () {
  "use strict";

  var focusedId = null;

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("#work .item"));
  }

  function setFocus(item) {
    items().forEach(function (el) { el.classList.toggle("focused", el === item); });
    focusedId = item ? item.id : null;
    if (item) item.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var index = list.indexOf(document.getElementById(focusedId));
    setFocus(list[index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + step))]);
  }

  function click(selector) {
    var item = document.getElementById(focusedId);
    var button = item && item.querySelector(selector);
    if (button && !button.disabled) button.click();
  }

  function isTyping(target) {
    return !!(target && target.closest && (target.isContentEditable || target.closest("input, textarea, select")));
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": click("button.accept"); break;
      case "r": click("button.reject"); break;
      case "e": {
        var item = document.getElementById(focusedId);
        var details = item && item.querySelector("details.edit-test");
        if (!details) return;
        details.open = true;
        details.querySelector("textarea").focus();
        break;
      }
      default: return;
    }
    event.preventDefault();
  });

  // After the settle too: htmx first gives swapped-in elements their old attributes and sets the
  // server's a moment later, which would drop the "focused" class set right after the swap.
  function restoreFocus() {
    var item = focusedId && document.getElementById(focusedId);
    setFocus(item || null);
  }
  document.addEventListener("htmx:afterSwap", restoreFocus);
  document.addEventListener("htmx:afterSettle", restoreFocus);
})();
