// Client sync progress bar (templates/integrations/_qbo_clients.html): polls the run status
// JSON while the run is queued or running, updates the bar and the label, and reloads the
// page once when the run finishes so the counts and the review list are current.
(function () {
  "use strict";

  var POLL_MS = 1500;

  function follow(box) {
    var url = box.getAttribute("data-status-url");
    var bar = box.querySelector("[data-sync-bar]");
    var label = box.querySelector("[data-sync-label]");
    if (!url || box.getAttribute("data-finished") === "true") return;

    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (run) {
          if (bar && run.percent !== null && run.percent !== undefined) {
            bar.value = run.percent;
            bar.textContent = run.percent + "%";
          }
          if (label) label.textContent = run.label;
          if (run.finished) {
            window.location.reload();
          } else {
            window.setTimeout(tick, POLL_MS);
          }
        })
        .catch(function () {
          window.setTimeout(tick, POLL_MS * 4);
        });
    }

    window.setTimeout(tick, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sync-progress]").forEach(follow);
  });
})();
