// Invoice form: add/remove line rows and show each line's amount and the total as you type.
// Amounts use integer cents (qty and rate have at most 2 decimals) rounded half-up, like the server.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-invoice-form]");
  if (!form) return;
  const body = form.querySelector("tbody[data-lines]");
  const template = form.querySelector("template[data-line-template]");
  const totalOut = form.querySelector("[data-invoice-total]");
  const addButton = form.querySelector("[data-add-line]");
  if (!body || !template) return;

  // Hundredths of the typed value, or null when it is not a plain non-negative 2-decimal number.
  const hundredths = (text) => {
    const value = String(text || "").replace(/,/g, "").trim();
    const match = /^(\d*)(?:\.(\d{0,2}))?$/.exec(value);
    if (!match || (match[1] === "" && !match[2])) return null;
    return Number(match[1] || "0") * 100 + Number((match[2] || "").padEnd(2, "0"));
  };
  const formatCents = (cents) => {
    const whole = Math.floor(cents / 100).toLocaleString("en-US");
    return `${whole}.${String(cents % 100).padStart(2, "0")}`;
  };
  const input = (row, suffix) => row.querySelector(`[name$="-${suffix}"]`);

  const recompute = () => {
    let total = 0;
    body.querySelectorAll("tr[data-line-row]").forEach((row) => {
      const out = row.querySelector("[data-line-amount]");
      const qtyText = input(row, "quantity").value;
      const rateText = input(row, "rate").value;
      const qty = hundredths(qtyText);
      const rate = hundredths(rateText);
      if (qty === null || rate === null) {
        out.textContent = qtyText.trim() || rateText.trim() ? "—" : "";
        return;
      }
      const cents = Math.floor((qty * rate + 50) / 100); // 1/10000 units -> cents, half-up
      out.textContent = formatCents(cents);
      total += cents;
    });
    if (totalOut) totalOut.textContent = formatCents(total);
  };

  let nextIndex = 0;
  form.querySelectorAll("[name^='lines-']").forEach((el) => {
    const match = /^lines-(\d+)-/.exec(el.name);
    if (match) nextIndex = Math.max(nextIndex, Number(match[1]) + 1);
  });

  const addRow = () => {
    const index = String(nextIndex++);
    const fragment = template.content.cloneNode(true);
    fragment.querySelectorAll("[name], [id], [for]").forEach((el) => {
      ["name", "id", "for"].forEach((attr) => {
        const value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace("__index__", index));
      });
    });
    fragment.querySelectorAll("[data-remove-line]").forEach((b) => { b.hidden = false; });
    const row = fragment.querySelector("tr");
    body.appendChild(fragment);
    return row;
  };

  body.addEventListener("input", recompute);
  body.addEventListener("change", recompute);
  body.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-line]");
    if (!button) return;
    const row = button.closest("tr");
    if (body.querySelectorAll("tr[data-line-row]").length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input").forEach((el) => { el.value = ""; });
      row.querySelectorAll("select").forEach((el) => { el.selectedIndex = 0; });
    }
    recompute();
  });
  if (addButton) {
    addButton.hidden = false;
    addButton.addEventListener("click", () => {
      const row = addRow();
      const description = row && input(row, "description");
      if (description) description.focus();
    });
  }
  form.querySelectorAll("[data-remove-line]").forEach((b) => { b.hidden = false; });
  recompute();
});
