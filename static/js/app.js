/* Small behaviours shared by every page; htmx does the rest. */
(function () {
  "use strict";

  // Scanner inputs: after htmx swaps a fragment, put the cursor back into the field marked autofocus,
  // so that a keyboard-wedge scanner can go on typing without a tap.
  function focusAutofocus(root) {
    var field = (root || document).querySelector("[autofocus]");
    if (field && typeof field.focus === "function") {
      field.focus();
      if (typeof field.select === "function") field.select();
    }
  }

  // A failed htmx request (network down, 5xx) must not fail silently on a handheld.
  function showError(message) {
    var main = document.getElementById("main");
    if (!main) return;
    var box = document.getElementById("htmx-error");
    if (!box) {
      box = document.createElement("p");
      box.id = "htmx-error";
      box.className = "message error";
      box.setAttribute("role", "alert");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = message;
  }

  function clearError() {
    var box = document.getElementById("htmx-error");
    if (box) box.remove();
  }

  document.addEventListener("htmx:afterSwap", function (event) { focusAutofocus(event.target); });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail && event.detail.successful) clearError();
  });
  document.addEventListener("htmx:sendError", function () { showError("No connection to the server. Retrying…"); });
  // 4xx answers (a wrong scan is 422) belong to the page that asked; only server failures are shown here.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 500) showError("The server failed (" + status + "). Try again in a moment.");
  });
})();
