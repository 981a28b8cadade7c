// The tracker's one script, loaded from our own origin (CSP 'self'): small conveniences on top
// of pages that work without it. htmx does the requests and swaps; this file only handles keys,
// the phone menu and messages that expire.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function typingIn(element) {
    if (!element) return false;
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  function closeSearchPanel() {
    var panel = document.getElementById("search-panel");
    if (panel) panel.innerHTML = "";
  }

  // "/" anywhere outside a field jumps to the search box; Escape there closes its results.
  document.addEventListener("keydown", function (event) {
    var search = document.getElementById("site-q");
    if (!search) return;
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingIn(event.target)) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "Escape" && event.target === search) {
      closeSearchPanel();
    }
  });

  // The results panel closes when focus or a click leaves the search form.
  document.addEventListener("click", function (event) {
    var form = document.querySelector(".site-search");
    if (form && !form.contains(event.target)) closeSearchPanel();
  });

  function setUpMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var menu = document.getElementById("site-menu");
    if (!toggle || !menu) return;
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    });
  }

  // A confirmation with an Undo button ([data-expires] seconds) drops the button once the undo
  // window is over; the words stay, so a screen reader user who comes back still finds them.
  function expireUndos(root) {
    root.querySelectorAll("[data-expires]").forEach(function (element) {
      var seconds = parseInt(element.getAttribute("data-expires"), 10) || 8;
      element.removeAttribute("data-expires");
      window.setTimeout(function () {
        element.querySelectorAll(".undo").forEach(function (undo) { undo.remove(); });
      }, seconds * 1000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    expireUndos(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    expireUndos(event.detail.elt.parentNode || document);
  });
})();

// A table wider than its box scrolls inside it; keyboard users reach it with Tab (axe:
// scrollable-region-focusable).
(function () {
  "use strict";
  function focusableScrollers() {
    document.querySelectorAll("table.grid, .table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex")) box.tabIndex = 0;
    });
  }
  document.addEventListener("DOMContentLoaded", focusableScrollers);
  document.addEventListener("htmx:afterSettle", focusableScrollers);
  window.addEventListener("resize", focusableScrollers);
})();
