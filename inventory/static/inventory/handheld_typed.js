// Fields inside [data-typed] (quantity, damaged, lot, expiry) are typed by hand: keep the focus
// there instead of handing it back to the scan field. Loaded before picking/handheld.js, so these
// listeners run first and stop its refocusing for those fields only.
(function () {
  var scan = document.getElementById("scan");
  function typed(el) { return el && el.closest && el.closest("[data-typed]"); }
  if (scan) {
    scan.addEventListener("blur", function (event) {
      if (typed(event.relatedTarget)) event.stopImmediatePropagation();
    });
  }
  document.addEventListener("click", function (event) {
    if (typed(event.target)) event.stopImmediatePropagation();
  });
})();
