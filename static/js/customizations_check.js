// The QuickBooks check on Customizations (templates/customizations/_would_hold.html): while the
// background job asks QuickBooks, poll the status JSON every 1.5 s for up to a minute, reload
// the page once the answers are cached, and say so plainly if the check failed or took too long.
(function () {
  "use strict";

  var POLL_MS = 1500;
  var GIVE_UP_MS = 60000;
  var FAILED = "Could not check QuickBooks right now";

  function showFailure(panel, message) {
    panel.removeAttribute("aria-busy");
    document.querySelectorAll("[data-item-check-label]").forEach(function (label) {
      label.textContent = "Not checked";
    });
    var summary = panel.querySelector("[data-item-check-summary]");
    if (summary) {
      summary.textContent = FAILED + (message ? " (" + message + ")" : "") +
        ". Reload the page in a minute.";
      summary.className = "error";
    }
  }

  function follow(panel) {
    var url = panel.getAttribute("data-item-check-url");
    var started = Date.now();
    if (!url) return;

    function later() {
      if (Date.now() - started >= GIVE_UP_MS) {
        showFailure(panel, "it is taking too long");
      } else {
        window.setTimeout(tick, POLL_MS);
      }
    }

    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (check) {
          if (check.ready) {
            window.location.reload();
          } else if (check.failed) {
            showFailure(panel, check.message);
          } else {
            later();
          }
        })
        .catch(later);
    }

    window.setTimeout(tick, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-item-check-url]").forEach(follow);
  });
})();
