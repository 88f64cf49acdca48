// Keep the scan field focused (a keyboard-wedge scanner types into whatever has focus),
// and make a refused scan impossible to miss: a low buzz and a vibration.
(function () {
  var scan = document.getElementById("scan");
  if (scan) {
    scan.focus();
    document.addEventListener("click", function (event) {
      if (event.target.tagName !== "BUTTON" && event.target.tagName !== "A") scan.focus();
    });
    scan.addEventListener("blur", function () { setTimeout(function () { scan.focus(); }, 50); });
  }
  if (document.querySelector("[data-error]")) {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      osc.type = "square";
      osc.frequency.value = 180;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.35);
    } catch (e) { /* no audio available */ }
    if (navigator.vibrate) navigator.vibrate([120, 60, 120]);
  } else if (document.querySelector(".hh-success")) {
    try {
      var ok = new (window.AudioContext || window.webkitAudioContext)();
      var beep = ok.createOscillator();
      beep.frequency.value = 1200;
      beep.connect(ok.destination);
      beep.start();
      beep.stop(ok.currentTime + 0.08);
    } catch (e) { /* no audio available */ }
  }
})();
