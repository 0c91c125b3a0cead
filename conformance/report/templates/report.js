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
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id) { return; }
    var el = document.getElementById(id);
    if (!el) { return; }
    var all = el.tagName === "DETAILS" ? [el] : el.querySelectorAll("details");
    for (var i = 0; i < all.length; i++) { all[i].open = true; }
    el.scrollIntoView();
  }
  if (box) { box.addEventListener("change", apply); apply(); }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
