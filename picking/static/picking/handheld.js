// Handheld pages: keep the scan field focused (a keyboard-wedge scanner types into whatever has
// focus), and make every scan's outcome impossible to miss: a short high beep when it was taken,
// a low buzz and a vibration when it was refused.
//
// Forms marked data-async (the pick page) are sent with fetch and the answer replaces the page in
// place. The page stays the same document, so the scanner's keystrokes count as the user's
// activation that browsers require before they play sound or vibrate; after a full page load
// they would stay silent. Without fetch the forms post and redirect as usual (with the scan id
// the server put in each form), and the state lives on the server either way: a reload shows the
// same step.
(function () {
  var audio = null;

  function context() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
    } catch (e) { audio = null; }
    return audio;
  }

  function tone(type, frequency, seconds) {
    var ctx = context();
    if (!ctx) return;
    try {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = type;
      osc.frequency.value = frequency;
      gain.gain.value = 0.4;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + seconds);
    } catch (e) { /* no audio available */ }
  }

  function feedback() {
    if (document.querySelector("[data-error]")) {
      tone("square", 160, 0.45);
      if (navigator.vibrate) navigator.vibrate([150, 80, 150, 80, 150]);
      document.body.setAttribute("data-feedback", "refused");
    } else if (document.querySelector(".hh-success, .hh-warning[role=status]")) {
      tone("sine", 1400, 0.08);
      if (navigator.vibrate) navigator.vibrate(40);
      document.body.setAttribute("data-feedback", "accepted");
    } else {
      document.body.removeAttribute("data-feedback");
    }
  }

  function scanField() { return document.getElementById("scan"); }

  function focusScan() {
    var scan = scanField();
    if (scan && document.activeElement !== scan) scan.focus({ preventScroll: true });
  }

  function typed(el) { return el && el.closest && el.closest("[data-typed]"); }

  // The answer replaces the body; its scripts are not run again (innerHTML never runs them). What
  // the scanner has typed of the next scan so far moves into the new field, so it is not cut in two.
  function swap(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var field = scanField();
    var typing = field ? field.value : "";
    document.title = doc.title;
    document.body.innerHTML = doc.body.innerHTML;
    if (url && url !== location.href) history.replaceState(null, "", url);
    field = scanField();
    if (field && typing) field.value = typing;
    focusScan();
    feedback();
    // Pages with more to do after a swap (the pack station focuses its weight fields) listen for this.
    document.dispatchEvent(new CustomEvent("hh:swapped"));
  }

  // Scans typed while an answer is awaited wait here and go one after the other, in order: a
  // scanner does not wait for the server, and a scan dropped (or glued to the next one) is a
  // unit miscounted. Each scan gets its own id when it is queued; the server answers a repeated
  // id from what it stored, so sending one twice never counts it twice.
  var queue = [];
  var sending = false;
  var unanswered = null;  // the scan whose answer never came: scanning that code again reuses its id

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] + 0x100).toString(16).slice(1);
    return out;
  }

  // crypto.randomUUID exists only in secure contexts (https, localhost); a warehouse LAN on plain
  // http is not one, but getRandomValues works everywhere: a version 4 UUID from its bytes.
  function scanId() {
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    if (c && c.getRandomValues) {
      var b = c.getRandomValues(new Uint8Array(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      var h = hex(b);
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    }
    return "s" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  function pending(count) {
    if (count) document.body.setAttribute("data-pending", String(count));
    else document.body.removeAttribute("data-pending");
  }

  function note(text) {
    var el = document.getElementById("scan-offline");
    if (!el) {
      el = document.createElement("p");
      el.id = "scan-offline";
      el.className = "hh-msg hh-error";
      el.setAttribute("role", "alert");
      el.setAttribute("data-error", "1");
      var form = document.getElementById("scan-form");
      var main = document.querySelector("main") || document.body;
      if (form) form.parentNode.insertBefore(el, form); else main.insertBefore(el, main.firstChild);
    }
    el.textContent = text;
  }

  // The scans queued behind a refused (or unanswered) one were made for a state that did not come
  // about: they are not sent, and the picker is told which to scan again.
  function dropQueue() {
    var codes = queue.filter(function (item) { return item.code !== undefined; }).map(function (item) { return item.code; });
    var taps = queue.length - codes.length;
    queue = [];
    var parts = [];
    if (codes.length) parts.push(codes.length + " more scan" + (codes.length > 1 ? "s" : "") + " not sent (" + codes.join(", ") + ")");
    if (taps) parts.push(taps + " button press" + (taps > 1 ? "es" : "") + " not sent");
    return parts.length ? parts.join("; ") + ": scan again." : "";
  }

  function failed(item) {
    if (item.code !== undefined) unanswered = { code: item.code, id: item.id };
    var dropped = dropQueue();
    note("No answer from the server: scan again." + (dropped ? " " + dropped : ""));
    feedback();
  }

  function send() {
    if (sending) return;
    var item = queue[0];
    if (!item) { pending(0); return; }
    var form = item.form || document.getElementById("scan-form");
    if (!form) {  // the list is done: no field takes scans any more
      note(dropQueue());
      feedback();
      pending(0);
      return;
    }
    var body = item.body || new FormData(form);
    if (item.code !== undefined) {
      // The fields of the page as it is now: the task shown after the answers to this device's
      // own earlier scans (the server still refuses a task another device moved on from).
      body.set("scan", item.code);
      body.set("scan_id", item.id);
    }
    sending = true;
    pending(queue.length);
    fetch(item.url || form.getAttribute("action") || location.href, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    }).then(function (response) {
      return response.text().then(function (html) {
        sending = false;
        queue.shift();
        if (!(response.ok || response.status === 409 || response.status === 422)) { failed(item); pending(0); return; }
        swap(html, response.url);  // sounds the answer
        if (document.querySelector("[data-error]") && queue.length) note(dropQueue());
        send();
      });
    }).catch(function () {
      sending = false;
      queue.shift();
      failed(item);
      pending(0);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-async")) return;
    var scan = form.querySelector("#scan");
    if (scan && !scan.value.trim()) { event.preventDefault(); return; }  // a stray Enter is no scan
    if (!window.fetch || !window.DOMParser || !window.FormData) return;
    event.preventDefault();
    context();  // unlock audio while the keystroke's activation is fresh
    if (scan) {
      var code = scan.value.trim();
      scan.value = "";  // at once: the next scan's keystrokes must not join this one
      var id = unanswered && unanswered.code === code ? unanswered.id : scanId();
      unanswered = null;
      queue.push({ code: code, id: id });
    } else {
      // A button's form as it was pressed, with the id the server gave it (a double tap is one press).
      queue.push({ form: form, body: new FormData(form), url: form.getAttribute("action") || location.href });
    }
    pending(queue.length);
    send();
  });

  document.addEventListener("click", function (event) {
    var tag = event.target.tagName;
    if (tag !== "BUTTON" && tag !== "A" && !typed(event.target)) focusScan();
  });
  // Fields inside [data-typed] (typed by hand on some pages) keep the focus; nothing else does.
  document.addEventListener("focusout", function (event) {
    if (event.target === scanField() && !typed(event.relatedTarget)) setTimeout(focusScan, 50);
  });
  // The first keystroke (the scanner's) is the activation that lets the page sound later.
  document.addEventListener("keydown", function once() {
    context();
    document.removeEventListener("keydown", once);
  });
  // A page restored by the back button shows an old state and used scan ids: show the current one.
  window.addEventListener("pageshow", function (event) { if (event.persisted) location.reload(); });

  focusScan();
  feedback();
})();
