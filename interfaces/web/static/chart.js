// Charts on uPlot, each with a text alternative: the same numbers as a table, and an aria-label.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { fmt, html } from "./ui.js";

const COLOURS = ["#2563eb", "#94a3b8", "#16a34a", "#dc2626", "#9333ea"];

function width(element) { return Math.max(280, element.clientWidth || 600); }

/** Draw once mounted, redraw on new data, follow the container's width. */
function usePlot(ref, build, data) {
  useEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    element.removeAttribute("data-drawn");
    const plot = new uPlot(build(width(element)), data, element);
    element.setAttribute("data-drawn", String(Date.now()));
    const resize = new ResizeObserver(() => plot.setSize({ width: width(element), height: 260 }));
    resize.observe(element);
    return () => { resize.disconnect(); plot.destroy(); };
  }, [data]);
}

/**
 * Time series: `series` is [{label, points: [{bucket, value}]}]; the first series sets the x axis
 * (a comparison series is drawn on the same buckets, shifted by the period).
 */
export function LineChart({ title, series }) {
  const ref = useRef(null);
  const xs = series[0].points.map((p) => Date.parse(p.bucket) / 1000);
  const data = [xs, ...series.map((s) => s.points.map((p) => p.value))];
  usePlot(ref, (w) => ({
    width: w, height: 260, legend: { show: true },
    series: [{}, ...series.map((s, i) => ({
      label: s.label, stroke: COLOURS[i % COLOURS.length], width: i ? 1.5 : 2, dash: i ? [6, 4] : [],
      fill: i ? undefined : "rgba(37, 99, 235, 0.08)",
    }))],
    axes: [{}, { values: (u, vals) => vals.map(fmt) }],
  }), data);
  const total = (s) => s.points.reduce((sum, p) => sum + p.value, 0);
  const label = `${title}: ` + series.map((s) => `${s.label} ${fmt(total(s))} in all`).join("; ");
  return html`<figure class="chart">
    <div ref=${ref} class="plot" role="img" aria-label=${label}></div>
    <details><summary>Show the numbers</summary>
      <table><thead><tr><th>Bucket (UTC)</th>${series.map((s) => html`<th>${s.label}</th>`)}</tr></thead>
      <tbody>${series[0].points.map((p, i) => html`<tr><td>${p.bucket}</td>
        ${series.map((s) => html`<td>${fmt(s.points[i]?.value)}</td>`)}</tr>`)}</tbody></table>
    </details></figure>`;
}

/** Horizontal bars as plain HTML (exact to read, accessible as a table). */
export function BarList({ title, rows, valueLabel = "Events" }) {
  const ref = useRef(null);
  useEffect(() => { ref.current?.setAttribute("data-drawn", String(Date.now())); }, [rows]);
  const max = Math.max(1, ...rows.map((r) => r.count));
  return html`<figure class="bars" ref=${ref} aria-label=${title}>
    <table><thead><tr><th>Value</th><th>${valueLabel}</th><th class="bar-cell" aria-hidden="true"></th></tr></thead>
    <tbody>${rows.map((r) => html`<tr><td>${r.value ?? html`<em>(none)</em>`}</td><td class="num">${fmt(r.count)}</td>
      <td class="bar-cell" aria-hidden="true"><span class="bar" style=${`width:${(100 * r.count) / max}%`}></span></td></tr>`)}
    </tbody></table></figure>`;
}
