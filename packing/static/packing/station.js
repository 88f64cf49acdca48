// The pack station (with picking/handheld.js, which sends the scans and swaps the page in place).
// Weighing: a keyboard-wedge scale types the weight and Enter into the focused field, so the
// first empty weight field takes the focus, and Enter moves on to the next empty one; Enter in
// the last one closes the session. Once packed, the page reloads itself until the label is bought.
(function () {
  function weights(form) { return form ? form.querySelectorAll("input[name^='weight_']") : []; }

  function firstEmpty(form) {
    var fields = weights(form);
    for (var i = 0; i < fields.length; i++) if (!fields[i].value.trim()) return fields[i];
    return null;
  }

  function focusWeigh() {
    var form = document.getElementById("close-form");
    if (!form) return;
    var field = form.querySelector("[aria-invalid=true]") || form.querySelector("textarea:not([value])") || firstEmpty(form);
    if (field && document.activeElement !== field) field.focus({ preventScroll: false });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var target = event.target;
    if (!target.name || target.name.indexOf("weight_") !== 0) return;
    var next = firstEmpty(target.form);
    if (next && next !== target) {
      event.preventDefault();
      next.focus();
    }
  });

  var polling = null;
  function poll() {
    if (polling || !document.querySelector("[data-label-pending]")) return;
    polling = setTimeout(function () {
      polling = null;
      if (document.querySelector("[data-label-pending]")) location.reload();
    }, 3000);
  }

  document.addEventListener("hh:swapped", function () { focusWeigh(); poll(); });
  focusWeigh();
  poll();
})();
