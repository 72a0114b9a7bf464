// Client form: show the name fields of the chosen kind and preview the display name live.
// displayNameFor must stay identical to display_name_for in portal/models/client.py
// (tests/test_client_names.py runs both over the same table).
(function () {
  "use strict";

  function squash(value) {
    return String(value || "").trim().split(/\s+/).filter(Boolean).join(" ");
  }

  // Python's str.casefold() for names: upper then lower folds "ß" to "ss" as casefold does.
  function fold(value) {
    return value.toUpperCase().toLowerCase();
  }

  function displayNameFor(kind, firstName, lastName, spouseFirstName, spouseLastName, companyName) {
    const first = squash(firstName);
    const last = squash(lastName);
    const spouseFirst = squash(spouseFirstName);
    let spouseLast = squash(spouseLastName);
    if (kind === "business") return squash(companyName);
    if (kind === "joint") {
      spouseLast = spouseLast || last;
      if (fold(spouseLast) === fold(last)) return squash(first + " & " + spouseFirst + " " + last);
      return squash(first + " " + last + " & " + spouseFirst + " " + spouseLast);
    }
    return squash(first + " " + last);
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { displayNameFor: displayNameFor };
  }
  if (typeof document === "undefined") return;

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.querySelector("form[data-client-form]");
    if (!form) return;
    const kindSelect = form.querySelector("[data-kind-select]");
    const output = form.querySelector("[data-display-name]");
    const value = function (name) {
      const el = form.elements.namedItem(name);
      return el ? el.value : "";
    };

    function showKind() {
      const kind = kindSelect ? kindSelect.value : "individual";
      form.querySelectorAll("[data-kinds]").forEach(function (group) {
        group.hidden = group.dataset.kinds.split(" ").indexOf(kind) === -1;
      });
    }

    function preview() {
      if (!output) return;
      const name = displayNameFor(
        kindSelect ? kindSelect.value : "individual",
        value("first_name"), value("last_name"),
        value("spouse_first_name"), value("spouse_last_name"),
        value("company_name")
      );
      output.textContent = name || output.dataset.empty || "";
    }

    if (kindSelect) {
      kindSelect.addEventListener("change", function () { showKind(); preview(); });
    }
    form.addEventListener("input", preview);
    showKind();
    preview();
  });
})();
