// Accessible names the Django admin leaves out, given from what the page already shows:
// the autocomplete fields (select2) are named by their value only, empty for an empty field;
// a tabular inline's inputs are labelled only by their column's header.
function nameAdminFields() {
  "use strict";
  function labelOf(select) {
    var label = select && document.querySelector("label[for='" + select.id + "']");
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }
  document.querySelectorAll(".tabular table").forEach(function (table) {
    var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr.form-row").forEach(function (row, index) {
      Array.prototype.forEach.call(row.children, function (cell, column) {
        cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
          if (!field.labels || field.labels.length === 0) {
            field.setAttribute("aria-label", (headers[column] || field.name) + ", row " + (index + 1));
          }
        });
      });
    });
  });
  document.querySelectorAll(".select2-container").forEach(function (container) {
    var select = container.previousElementSibling;
    var name = labelOf(select) || (select && select.getAttribute("aria-label")) || "";
    if (!name) return;
    container.querySelectorAll("[role=combobox], [role=textbox]").forEach(function (part) {
      part.removeAttribute("aria-labelledby");
      part.setAttribute("aria-label", name);
    });
  });
}
// select2 may set its own attributes after the page loads: name them again a moment later.
window.addEventListener("load", function () {
  nameAdminFields();
  window.setTimeout(nameAdminFields, 300);
});
