// Filters and pages for the findings table. Reads only data attributes and sets `hidden` and
// textContent; never builds HTML from report data. Rows past the first page are written hidden,
// so a report with thousands of findings lays out one page, not all of them.
(function () {
  "use strict";
  var table = document.getElementById("findings");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#findings tbody tr.finding"));
  var selects = Array.prototype.slice.call(document.querySelectorAll("#filters select"));
  var text = document.getElementById("f-text");
  var shown = document.getElementById("shown");
  var pageLabel = document.getElementById("page");
  var prev = document.getElementById("p-prev");
  var next = document.getElementById("p-next");
  var size = parseInt(table.dataset.pageSize, 10) || 100;
  var page = 0;
  var matching = rows;

  function filter() {
    var wanted = {};
    selects.forEach(function (s) { if (s.value) { wanted[s.dataset.key] = s.value; } });
    var needle = text.value.trim().toLowerCase();
    matching = rows.filter(function (row) {
      var ok = Object.keys(wanted).every(function (k) { return row.dataset[k] === wanted[k]; });
      if (ok && needle) { ok = row.textContent.toLowerCase().indexOf(needle) !== -1; }
      return ok;
    });
    page = 0;
    show();
  }

  function show() {
    var pages = Math.max(1, Math.ceil(matching.length / size));
    if (page >= pages) { page = pages - 1; }
    var first = page * size, last = Math.min(matching.length, first + size);
    var visible = new Set(matching.slice(first, last));
    rows.forEach(function (row) { row.hidden = !visible.has(row); });
    shown.textContent = "Showing " + matching.length + " of " + rows.length + " findings";
    pageLabel.textContent = matching.length ? "Findings " + (first + 1) + "–" + last + " of " + matching.length + " (page " + (page + 1) + " of " + pages + ")" : "";
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    document.getElementById("pager").hidden = pages < 2;
  }

  prev.addEventListener("click", function () { page -= 1; show(); });
  next.addEventListener("click", function () { page += 1; show(); });
  selects.forEach(function (s) { s.addEventListener("change", filter); });
  text.addEventListener("input", filter);
  document.getElementById("f-reset").addEventListener("click", function () {
    selects.forEach(function (s) { s.value = ""; });
    text.value = "";
    filter();
  });
  // Clicking a chart bar filters the table by that severity or rule.
  Array.prototype.forEach.call(document.querySelectorAll("svg .bar"), function (bar) {
    bar.addEventListener("click", function () {
      var select = document.getElementById("f-" + bar.dataset.filter);
      if (select) {
        select.value = bar.dataset.value;
        filter();
        document.getElementById("findings-section").scrollIntoView();
      }
    });
  });
  // Printing shows every finding, not one page.
  window.addEventListener("beforeprint", function () { rows.forEach(function (row) { row.hidden = false; }); });
  window.addEventListener("afterprint", show);
  filter();
})();
