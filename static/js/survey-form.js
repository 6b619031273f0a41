// The survey form's small helpers: show a part only when it applies, and fill the GPS position.
// The form works without this file; it only hides what is not relevant and saves typing.
"use strict";

(function () {
  const form = document.querySelector(".survey-form");
  if (!form) return;

  function currentValue(key) {
    const checked = form.querySelector(`[name="${key}"]:checked`);
    if (checked) return checked.value;
    const input = form.querySelector(`select[name="${key}"], input[name="${key}"]:not([type=radio])`);
    return input ? input.value : null;
  }

  // data-show-when="pv_installed:true" or "primary_stove:traditional_wood,improved_wood,coal"
  function applyConditions() {
    for (const part of form.querySelectorAll("[data-show-when]")) {
      const [key, values] = part.dataset.showWhen.split(":");
      const value = currentValue(key);
      if (value === null) continue; // the deciding answer is on another step: keep it visible
      part.hidden = !values.split(",").includes(value);
    }
  }
  form.addEventListener("change", applyConditions);
  applyConditions();

  const gpsButton = form.querySelector("[data-gps]");
  const gpsStatus = form.querySelector("[data-gps-status]");
  if (gpsButton && "geolocation" in navigator) {
    gpsButton.hidden = false;
    gpsButton.addEventListener("click", () => {
      gpsStatus.textContent = gpsButton.dataset.waiting || "…";
      navigator.geolocation.getCurrentPosition(
        (position) => {
          const { latitude, longitude, accuracy } = position.coords;
          form.elements.latitude.value = latitude.toFixed(6);
          form.elements.longitude.value = longitude.toFixed(6);
          form.elements.gps_accuracy_m.value = Math.round(accuracy);
          gpsStatus.textContent = "✓";
        },
        (error) => { gpsStatus.textContent = error.message; },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
      );
    });
  }
})();
