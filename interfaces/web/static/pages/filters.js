// Property filters, kept in the URL as JSON: [{key, op, value}].
import { html } from "../ui.js";

const OPS = [["EQ", "="], ["NEQ", "≠"], ["GT", ">"], ["LT", "<"], ["CONTAINS", "contains"],
             ["IS_SET", "is set"], ["IS_NOT_SET", "is not set"]];

export function decodeFilters(text) {
  try { return text ? JSON.parse(text) : []; } catch { return []; }
}

export function Filters({ value, onChange }) {
  const filters = decodeFilters(value);
  const save = (next) => onChange(next.length ? JSON.stringify(next) : "");
  const change = (i, field, v) => save(filters.map((f, j) => (j === i ? { ...f, [field]: v } : f)));
  return html`<fieldset class="filters"><legend>Filters</legend>
    ${filters.map((f, i) => html`<div class="filter">
      <input aria-label="Property" value=${f.key} onChange=${(e) => change(i, "key", e.target.value)} />
      <select aria-label="Comparison" value=${f.op} onChange=${(e) => change(i, "op", e.target.value)}>
        ${OPS.map(([op, label]) => html`<option value=${op} selected=${op === f.op}>${label}</option>`)}</select>
      <input aria-label="Value" value=${f.value ?? ""} onChange=${(e) => change(i, "value", e.target.value)} />
      <button type="button" class="link" onClick=${() => save(filters.filter((_, j) => j !== i))}>Remove</button>
    </div>`)}
    <button type="button" onClick=${() => save([...filters, { key: "", op: "EQ", value: "" }])}>Add filter</button>
  </fieldset>`;
}
