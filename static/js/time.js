// My Time and Timesheets. Driven by data- attributes only (no inline scripts: CSP).
document.addEventListener("DOMContentLoaded", () => {
  // Billable time needs a client: with no client chosen the Billable box is off and disabled.
  // The server enforces the same rule; this only saves a round trip.
  document.querySelectorAll("form[data-time-form]").forEach((form) => {
    const client = form.querySelector("[data-client-select]");
    const billable = form.querySelector("[data-billable]");
    if (!client || !billable) return;
    let wanted = billable.checked;
    billable.addEventListener("change", () => { wanted = billable.checked; });
    const sync = () => {
      const noClient = client.value === "";
      billable.disabled = noClient;
      billable.checked = noClient ? false : wanted;
    };
    client.addEventListener("change", sync);
    sync();
  });

  // <input type=checkbox data-select-all="FORM_ID"> ticks every ids checkbox of that form.
  document.querySelectorAll("[data-select-all]").forEach((all) => {
    const boxes = () => Array.from(document.querySelectorAll('input[type="checkbox"][name="ids"]'))
      .filter((box) => box.form && box.form.id === all.dataset.selectAll);
    const counter = document.querySelector(`[data-selected-count="${all.dataset.selectAll}"]`);
    const refresh = () => {
      const list = boxes();
      const ticked = list.filter((box) => box.checked).length;
      all.checked = list.length > 0 && ticked === list.length;
      all.indeterminate = ticked > 0 && ticked < list.length;
      if (counter) counter.textContent = ticked ? `${ticked} selected` : "";
    };
    all.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = all.checked; });
      refresh();
    });
    boxes().forEach((box) => box.addEventListener("change", refresh));
    refresh();
  });

  // Timesheets filter: the From/To dates matter only for a custom period.
  const period = document.querySelector("[data-period-select]");
  if (period) {
    const custom = document.querySelectorAll("[data-custom-range]");
    const sync = () => custom.forEach((el) => {
      (el.closest(".field") || el).hidden = period.value !== "custom";
    });
    period.addEventListener("change", sync);
    sync();
  }
});
