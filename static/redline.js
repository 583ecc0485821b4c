/* Redline: keyboard review of the redline, and a message when an htmx request fails.
 * The page works without this file; it only adds shortcuts on top of real forms.
 *   j / k  focus the next / previous edit (and scroll it into view)
 *   a / r  accept / reject the edit in focus (clicks its form's button)
 *   u      undo your last decision (clicks the Undo form's button)
 * Keys are ignored while typing in a field. */
(function () {
  "use strict";

  var focusedId = null;

  function edits() {
    return Array.prototype.slice.call(document.querySelectorAll("#redline .edit"));
  }

  function focused() {
    return focusedId ? document.getElementById(focusedId) : null;
  }

  function setFocus(edit, scroll) {
    edits().forEach(function (el) {
      var on = el === edit;
      el.classList.toggle("focused", on);
      if (on) {
        el.setAttribute("aria-current", "true");
      } else {
        el.removeAttribute("aria-current");
      }
    });
    focusedId = edit ? edit.id : null;
    if (edit && scroll) {
      edit.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  /* After a load or a swap: keep the focus on the same edit, or start at the first undecided. */
  function restoreFocus() {
    var list = edits();
    if (!list.length) {
      focusedId = null;
      return;
    }
    var edit = focused();
    if (!edit) {
      edit = list.filter(function (el) { return el.dataset.decision === "undecided"; })[0] || list[0];
    }
    setFocus(edit, false);
  }

  function move(step) {
    var list = edits();
    if (!list.length) return;
    var index = list.indexOf(focused());
    var next = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + step));
    setFocus(list[next], true);
  }

  function click(button) {
    if (button && !button.disabled) button.click();
  }

  function isTyping(target) {
    if (!target || !target.closest) return false;
    return target.isContentEditable || !!target.closest("input, textarea, select, [contenteditable]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (!document.getElementById("redline")) return;  // the keys belong to the review page only
    var edit = focused();
    switch (event.key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "a":
        click(edit && edit.querySelector("button.accept"));
        break;
      case "r":
        click(edit && edit.querySelector("button.reject"));
        break;
      case "u":
        click(document.querySelector("#undo-form button"));
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  /* A click on an edit (text or buttons) puts it in focus. */
  document.addEventListener("click", function (event) {
    var edit = event.target.closest && event.target.closest("#redline .edit");
    if (edit) setFocus(edit, false);
  });

  document.addEventListener("DOMContentLoaded", restoreFocus);
  document.addEventListener("htmx:afterSwap", restoreFocus);
  document.addEventListener("htmx:afterSettle", restoreFocus);

  /* 400 and 409 come back as fragments that say what is wrong (see the htmx-config meta tag);
   * anything else that fails is said here. */
  function flash(text) {
    var box = document.getElementById("flash");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var why = {
      403: "You are not allowed to do that (403). Your session may have ended: reload the page and log in.",
      404: "That item no longer exists or is not yours (404). Reload the page.",
    }[status];
    flash(why || "The server could not carry that out (" + status + "). Reload the page and try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    flash("The server cannot be reached. Check the connection; nothing was changed.");
  });

  /* A new action clears the last failure (the progress polls do not). */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = document.getElementById("flash");
    var verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    if (box && verb && verb !== "get") box.hidden = true;
  });
})();
