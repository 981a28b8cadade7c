// Type-ahead over a long select (tracker/forms.py type_ahead): an ARIA combobox, as in
// https://www.w3.org/WAI/ARIA/apg/patterns/combobox/examples/combobox-autocomplete-list/, whose
// options htmx fetches from the server (/choices/<kind>/) as the user types. The select stays
// in the form, hidden, and holds the choice: only an option it has can be chosen, and what is
// submitted is what it holds. Without JavaScript the select is shown as it is.
(function () {
  "use strict";
  // A select with no more options than this reads at a glance and stays as it is.
  var LONG_LIST = 15;

  function labelText(select) {
    var label = document.querySelector("label[for='" + select.id + "']");
    return label ? label.textContent.replace(/:\s*$/, "").trim() : select.name;
  }

  function hasValue(select, value) {
    return Array.prototype.some.call(select.options, function (option) {
      return option.value === value && value !== "";
    });
  }

  function chosenText(select) {
    if (select.multiple || select.selectedIndex < 0) return "";
    var option = select.options[select.selectedIndex];
    return option && option.value ? option.textContent.trim() : "";
  }

  function enhance(select) {
    if (select.hasAttribute("data-combobox-ready") || !select.id) return;
    if (select.options.length <= LONG_LIST) return;
    select.setAttribute("data-combobox-ready", "");
    var id = select.id;
    var name = labelText(select);
    var multiple = select.multiple;

    var box = document.createElement("div");
    box.className = "combobox";
    // The text box takes the select's id, so the field's <label for> now names it.
    var input = document.createElement("input");
    select.id = id + "-select";
    input.id = id;
    input.type = "text";
    input.className = "combobox-input";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-listbox");
    input.placeholder = multiple ? "Type to add…" : "Type to search…";
    ["aria-describedby", "aria-invalid"].forEach(function (attribute) {
      if (select.hasAttribute(attribute)) input.setAttribute(attribute, select.getAttribute(attribute));
    });
    if (select.required) {
      // A hidden required select would block the form without saying why; the text box says it.
      select.required = false;
      input.required = !multiple;
    }
    // htmx asks for the options as the user types, or when they open the list (arrow down).
    input.setAttribute("hx-get", select.getAttribute("data-choices"));
    input.setAttribute("hx-trigger", "input changed delay:200ms, combobox-open");
    input.setAttribute("hx-target", "#" + CSS.escape(id + "-listbox"));
    input.setAttribute("hx-swap", "innerHTML");
    input.setAttribute("hx-sync", "this:replace");

    var listbox = document.createElement("ul");
    listbox.id = id + "-listbox";
    listbox.className = "combobox-listbox";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", name);
    if (multiple) listbox.setAttribute("aria-multiselectable", "true");

    // How many match, said once the options came: the server writes it here, out of band, for
    // screen readers; the note under the options shows the same words.
    var status = document.createElement("p");
    status.id = id + "-status";
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    var note = document.createElement("p");
    note.className = "combobox-note";
    note.setAttribute("aria-hidden", "true");
    var popup = document.createElement("div");
    popup.className = "combobox-popup";
    popup.hidden = true;
    popup.appendChild(listbox);
    popup.appendChild(note);
    var field = document.createElement("div");
    field.className = "combobox-field";
    field.appendChild(input);
    field.appendChild(popup);

    var chosen = null;
    if (multiple) {
      chosen = document.createElement("ul");
      chosen.className = "combobox-chosen";
      chosen.setAttribute("aria-label", "Chosen: " + name);
      box.appendChild(chosen);
    }
    box.appendChild(field);
    box.appendChild(status);
    select.hidden = true;
    select.parentNode.insertBefore(box, select);
    input.value = chosenText(select);

    function options() {
      return Array.prototype.slice.call(listbox.querySelectorAll("[role=option]"));
    }

    function isOpen() {
      return !popup.hidden;
    }

    function open() {
      // With no option to show, the note alone says so ("No match"); the list stays collapsed.
      popup.hidden = false;
      input.setAttribute("aria-expanded", options().length ? "true" : "false");
    }

    function close() {
      popup.hidden = true;
      status.textContent = "";
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      options().forEach(function (option) { option.classList.remove("active"); });
    }

    function active() {
      var current = input.getAttribute("aria-activedescendant");
      return current ? document.getElementById(current) : null;
    }

    function activate(option) {
      options().forEach(function (other) { other.classList.toggle("active", other === option); });
      if (option) {
        input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function markSelected() {
      options().forEach(function (option) {
        var value = option.getAttribute("data-value");
        var selected = Array.prototype.some.call(select.selectedOptions, function (o) { return o.value === value; });
        option.setAttribute("aria-selected", selected ? "true" : "false");
      });
    }

    function renderChosen() {
      if (!chosen) return;
      chosen.textContent = "";
      Array.prototype.forEach.call(select.selectedOptions, function (option) {
        var item = document.createElement("li");
        var text = document.createElement("span");
        text.textContent = option.textContent.trim();
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "combobox-remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", "Remove " + option.textContent.trim());
        remove.addEventListener("click", function () {
          option.selected = false;
          select.dispatchEvent(new Event("change", { bubbles: true }));
          renderChosen();
          markSelected();
          input.focus();
        });
        item.appendChild(text);
        item.appendChild(remove);
        chosen.appendChild(item);
      });
      chosen.hidden = !select.selectedOptions.length;
    }

    function choose(option) {
      var value = option.getAttribute("data-value");
      if (!hasValue(select, value)) return;
      if (multiple) {
        var item = Array.prototype.find.call(select.options, function (o) { return o.value === value; });
        item.selected = !item.selected;
        renderChosen();
        markSelected();
        status.textContent = (item.selected ? "Added " : "Removed ") + item.textContent.trim() + ".";
        note.textContent = "";
      } else {
        select.value = value;
        input.value = chosenText(select);
        close();
      }
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    // What the user typed goes as ?q=, and the combobox's id names the options and the status.
    input.addEventListener("htmx:configRequest", function (event) {
      event.detail.parameters.q = input.value;
      event.detail.parameters["for"] = id;
    });

    listbox.addEventListener("htmx:afterSwap", function (event) {
      if (event.target !== listbox) return;
      // Only what the select offers can be chosen.
      options().forEach(function (option) {
        if (!hasValue(select, option.getAttribute("data-value"))) option.remove();
      });
      markSelected();
      note.textContent = status.textContent;
      if (document.activeElement === input) {
        open();
      } else {
        close();
      }
    });

    input.addEventListener("keydown", function (event) {
      var list = options();
      var current = active();
      var at = list.indexOf(current);
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!isOpen()) {
          if (list.length) { open(); } else { htmx.trigger(input, "combobox-open"); }
          if (!event.altKey && list.length) activate(event.key === "ArrowDown" ? list[0] : list[list.length - 1]);
          return;
        }
        if (event.altKey || !list.length) return;
        var next = event.key === "ArrowDown" ? at + 1 : at - 1;
        if (next >= list.length) next = 0;
        if (next < 0) next = list.length - 1;
        activate(list[next]);
      } else if (event.key === "Enter") {
        if (isOpen() && current) {
          event.preventDefault();  // choosing is not submitting
          choose(current);
        }
      } else if (event.key === "Escape") {
        if (isOpen()) {
          event.preventDefault();
          close();
        } else if (!multiple) {
          input.value = chosenText(select);
        }
      } else if (event.key === "Home" || event.key === "End") {
        activate(null);  // the keys move the caret in the text box
      }
    });

    input.addEventListener("input", function () {
      activate(null);
      // Emptied: nothing is chosen any more (a multiple choice keeps what it has).
      if (!multiple && input.value.trim() === "" && select.value !== "") {
        select.value = "";
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });

    // The text box always ends up saying what the select holds: typed text that was not
    // chosen from the list is put back when the focus leaves, never submitted as if it were.
    box.addEventListener("focusout", function (event) {
      if (box.contains(event.relatedTarget)) return;
      close();
      input.value = multiple ? "" : chosenText(select);
    });

    listbox.addEventListener("mousedown", function (event) {
      event.preventDefault();  // keep the focus in the text box
    });
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) choose(option);
    });

    renderChosen();
    htmx.process(box);
  }

  function enhanceAll(root) {
    if (!window.htmx || !window.CSS) return;
    var scope = root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("select[data-choices]")) enhance(scope);
    scope.querySelectorAll("select[data-choices]").forEach(enhance);
  }

  // New content (the page, a form opened in a whip board's row, a form re-shown with its
  // errors) is enhanced as it arrives.
  if (window.htmx) {
    htmx.onLoad(enhanceAll);
  } else {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  }
})();
