// Search and state filter for the index. The table is complete without this script; it only
// hides rows. It never reads or writes markup, only text and the `hidden` property.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("filters");
  var search = document.getElementById("search");
  var state = document.getElementById("state");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#packages tbody tr"));
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = state.value;
    var count = 0;
    rows.forEach(function (row, i) {
      var show = (!wanted || row.dataset.state === wanted) &&
        words.every(function (w) { return texts[i].indexOf(w) !== -1; });
      row.hidden = !show;
      if (show) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  search.addEventListener("input", apply);
  state.addEventListener("change", apply);
  form.hidden = false;
  apply();
});
