// Tables on a phone: below 40rem base.html lays each row out as a block and each cell under the
// next, and names each cell with its column (td[data-label]::before). The column's name is its
// heading in <thead>; a cell that already has a data-label keeps it. Loaded as a file of this
// origin: the Content-Security-Policy allows no inline script. Without JavaScript the rows are
// still stacked, only the cells go unnamed.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) {
      return;
    }
    var names = [];
    Array.prototype.forEach.call(head.cells, function (cell) {
      for (var i = 0; i < cell.colSpan; i += 1) {
        names.push(cell.textContent.replace(/\s+/g, " ").trim());
      }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = names[column];
          if (cell.tagName === "TD" && name && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan;
        });
      });
    });
  });
})();
