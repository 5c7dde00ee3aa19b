(function () {
  "use strict";
  // Sort a table by a clicked header; numbers by data-sort or their text, missing last.
  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) { return { num: NaN, text: "" }; }
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    var text = raw.trim();
    var num = parseFloat(text.replace(/[,%≈]/g, ""));
    return { num: text === "" ? NaN : num, text: text.toLowerCase() };
  }
  function sortTable(table, index, header) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.every(function (r) { var k = cellKey(r, index); return k.text === "" || !isNaN(k.num); });
    rows.sort(function (a, b) {
      var ka = cellKey(a, index), kb = cellKey(b, index), order;
      if (numeric) {
        if (isNaN(ka.num)) { return 1; }
        if (isNaN(kb.num)) { return -1; }
        order = ka.num - kb.num;
      } else {
        order = ka.text < kb.text ? -1 : (ka.text > kb.text ? 1 : 0);
      }
      return ascending ? order : -order;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  var tables = document.querySelectorAll("table.da-sortable");
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tHead.rows.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.addEventListener("click", function () { sortTable(table, index, th); });
    });
  });
  // Filter a table's rows by the text typed in its filter box.
  var filters = document.querySelectorAll("input.da-filter");
  Array.prototype.forEach.call(filters, function (input) {
    var table = document.getElementById(input.getAttribute("data-filter-for"));
    if (!table || !table.tBodies[0]) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.style.display = !needle || row.textContent.toLowerCase().indexOf(needle) >= 0 ? "" : "none";
      });
    });
  });
})();
