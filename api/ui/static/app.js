// Small progressive enhancements for the BOA tablet pages. Everything works without this
// script, except sending the tablet's position (geolocation needs JavaScript).
(function () {
  "use strict";

  function withPosition(onDone) {
    if (!("geolocation" in navigator)) { onDone(null); return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { onDone(pos.coords); },
      function () { onDone(null); },
      { enableHighAccuracy: true, timeout: 8000, maximumAge: 15000 }
    );
  }

  var nearest = document.getElementById("nearest");
  if (nearest) {
    nearest.addEventListener("click", function () {
      var form = document.getElementById("queue-filters");
      nearest.disabled = true;
      nearest.textContent = "Positie bepalen…";
      withPosition(function (c) {
        if (c) {
          form.elements.lon.value = c.longitude.toFixed(6);
          form.elements.lat.value = c.latitude.toFixed(6);
        }
        form.submit();
      });
    });
  }

  var confirmForm = document.getElementById("confirm-form");
  if (confirmForm) {
    confirmForm.addEventListener("submit", function (ev) {
      var mode = confirmForm.querySelector("input[name=mode]:checked");
      if (!mode || mode.value !== "on_site" || confirmForm.dataset.located) { return; }
      ev.preventDefault();
      withPosition(function (c) {
        if (c) {
          confirmForm.elements.lon.value = c.longitude.toFixed(6);
          confirmForm.elements.lat.value = c.latitude.toFixed(6);
        }
        confirmForm.dataset.located = "1";
        confirmForm.submit();
      });
    });
  }
})();
