(function () {
  "use strict";
  var box = document.getElementById("failures-only");
  var shown = document.getElementById("shown");
  function count() {
    var rows = document.querySelectorAll("tr.rule, tr.mrow");
    var visible = 0;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].offsetParent !== null) { visible++; }
    }
    if (shown) { shown.textContent = visible + " of " + rows.length + " rules shown"; }
  }
  function apply() {
    document.body.classList.toggle("failures-only", box.checked);
    count();
  }
  // A link to a rule or a check opens its evidence, and the rows that fold it in.
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id) { return; }
    var el = document.getElementById(id);
    if (!el) { return; }
    var all = el.tagName === "DETAILS" ? [el] : el.querySelectorAll("details");
    for (var i = 0; i < all.length; i++) { all[i].open = true; }
    for (var up = el.parentElement; up; up = up.parentElement) {
      if (up.tagName === "DETAILS") { up.open = true; }
      if (up.classList.contains("more-row")) { unfold(up.previousElementSibling); }
    }
    el.scrollIntoView();
  }
  // The row under a rule holds what its details element unfolds; browsers without :has()
  // show it through this class.
  function unfold(row) {
    var details = row && row.querySelector("td.ev > details");
    if (details) { details.open = true; row.classList.add("open"); }
  }
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    var cell = details.parentElement;
    if (cell && cell.classList && cell.classList.contains("ev")) {
      cell.parentElement.classList.toggle("open", details.open);
    }
  }, true);
  if (box) { box.addEventListener("change", apply); apply(); }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
