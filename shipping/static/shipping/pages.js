/* The shipping pages: confirm before a form marked data-confirm is sent (void, close the day,
   deactivate); on the account form, show the chosen carrier's credentials, the rate sheet only for
   a generic account, and add service and zone rows. Without JavaScript every form still works. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  var ZONE_ROWS = 3;

  function fromTemplate(id, replacements) {
    var html = document.getElementById(id).innerHTML;
    Object.keys(replacements).forEach(function (key) { html = html.split(key).join(replacements[key]); });
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function addZone(serviceRow) {
    var list = serviceRow.querySelector(".zone-list");
    var next = 0;
    list.querySelectorAll("[data-zone-row]").forEach(function (row) {
      next = Math.max(next, parseInt(row.dataset.zoneRow, 10) + 1);
    });
    list.appendChild(fromTemplate("zone-template", { "__S__": serviceRow.dataset.serviceRow, "__Z__": String(next) }));
  }

  function setUp(form) {
    var carrier = form.querySelector("select[name=carrier_name]");
    function show() {
      var chosen = carrier.value;
      form.querySelectorAll("fieldset[data-carrier]").forEach(function (set) { set.hidden = set.dataset.carrier !== chosen; });
      form.querySelectorAll("[data-zones]").forEach(function (zones) { zones.hidden = chosen !== "generic"; });
    }
    carrier.addEventListener("change", show);
    show();

    var addService = document.getElementById("add-service");
    addService.addEventListener("click", function () {
      var index = addService.dataset.next;
      addService.dataset.next = String(parseInt(index, 10) + 1);
      var row = fromTemplate("service-template", { "__S__": index });
      document.getElementById("service-list").appendChild(row);
      for (var i = 0; i < ZONE_ROWS; i++) addZone(row);
      show();
      row.querySelector("input").focus();
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-add-zone]");
      if (button) addZone(button.closest("[data-service-row]"));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("account-form");
    if (form) setUp(form);
  });
})();
