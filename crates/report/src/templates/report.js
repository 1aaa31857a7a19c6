// Filters for the findings table. Reads only data attributes and sets `hidden` and textContent;
// never builds HTML from report data.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#findings tbody tr.finding"));
  var selects = Array.prototype.slice.call(document.querySelectorAll("#filters select"));
  var text = document.getElementById("f-text");
  var shown = document.getElementById("shown");

  function apply() {
    var wanted = {};
    selects.forEach(function (s) { if (s.value) { wanted[s.dataset.key] = s.value; } });
    var needle = text.value.trim().toLowerCase();
    var visible = 0;
    rows.forEach(function (row) {
      var ok = Object.keys(wanted).every(function (k) { return row.dataset[k] === wanted[k]; });
      if (ok && needle) { ok = row.textContent.toLowerCase().indexOf(needle) !== -1; }
      row.hidden = !ok;
      if (ok) { visible += 1; }
    });
    shown.textContent = "Showing " + visible + " of " + rows.length + " findings";
  }

  selects.forEach(function (s) { s.addEventListener("change", apply); });
  text.addEventListener("input", apply);
  document.getElementById("f-reset").addEventListener("click", function () {
    selects.forEach(function (s) { s.value = ""; });
    text.value = "";
    apply();
  });
  // Clicking a chart bar filters the table by that severity or rule.
  Array.prototype.forEach.call(document.querySelectorAll("svg .bar"), function (bar) {
    bar.addEventListener("click", function () {
      var select = document.getElementById("f-" + bar.dataset.filter);
      if (select) {
        select.value = bar.dataset.value;
        apply();
        document.getElementById("findings-section").scrollIntoView();
      }
    });
  });
  apply();
})();
