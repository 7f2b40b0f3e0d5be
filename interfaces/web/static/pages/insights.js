// Insights: a timeseries, a breakdown or a funnel built from pickers; the URL holds the question.
import { useEffect, useRef } from "preact/hooks";
import { gql, ErrorNote } from "../api.js";
import { BarList, LineChart } from "../chart.js";
import { Empty, RangePicker, Select, fmt, html, intervalFor, pct, rangeOf, useLoad, useQueryState } from "../ui.js";
import { Filters, decodeFilters } from "./filters.js";

const KINDS = [["timeseries", "Timeseries"], ["breakdown", "Breakdown"], ["funnel", "Funnel"]];
const METRICS = [["COUNT", "Events"], ["UNIQUE_ACTORS", "Unique actors"], ["SESSIONS", "Sessions"]];
const ORDERS = [["SEQUENTIAL", "In order"], ["STRICT", "Strictly in order"], ["ANY", "Any order"]];
const WINDOWS = [["3600", "1 hour"], ["86400", "1 day"], ["604800", "7 days"], ["1209600", "14 days"],
                 ["2592000", "30 days"]];
export const DIMENSIONS = ["$country", "$region", "$city", "$browser", "$os", "$device_type",
                           "category", "source_app", "source_version"];

const NAMES = `query Names($from: DateTime!, $to: DateTime!) { topEvents(from: $from, to: $to, limit: 200) { value } }`;
const SAVED = `{ savedInsights { name type definition } }`;

/** A saved insight (beacon.yml's `insights`) as the URL question this page reads. */
function questionOf({ type, definition: d }) {
  const q = { kind: type };
  if (type === "funnel") {
    Object.assign(q, { steps: d.steps.join(","), order: (d.order || "sequential").toUpperCase() });
    if (d.window_seconds) q.window = String(d.window_seconds);
  } else {
    Object.assign(q, { event: d.event, metric: (d.metric || "count").toUpperCase() });
    if (d.property) q.property = d.property;
  }
  return new URLSearchParams(q).toString();
}

function ask(q) {
  const range = rangeOf(q), filters = decodeFilters(q.filters).filter((f) => f.key);
  if (q.kind === "funnel") {
    const steps = q.steps.split(",").map((s) => s.trim()).filter(Boolean);
    return gql(`query F($steps: [String!]!, $from: DateTime!, $to: DateTime!, $window: Int, $order: FunnelOrder,
        $filters: [PropertyFilter!], $breakdown: String) {
      funnel(steps: $steps, from: $from, to: $to, windowSeconds: $window, order: $order, filters: $filters,
             breakdown: $breakdown) {
        steps { name count conversionRate medianSecondsFromPrevious }
        breakdowns { value steps { name count conversionRate } } } }`,
    { steps, ...range, window: Number(q.window), order: q.order, filters, breakdown: q.property || null });
  }
  if (q.kind === "breakdown") {
    return gql(`query B($event: String!, $property: String!, $from: DateTime!, $to: DateTime!, $metric: Metric,
        $filters: [PropertyFilter!]) {
      breakdown(event: $event, property: $property, from: $from, to: $to, metric: $metric, filters: $filters) { value count } }`,
    { event: q.event, property: q.property, ...range, metric: q.metric, filters });
  }
  return gql(`query T($event: String!, $from: DateTime!, $to: DateTime!, $interval: Interval, $metric: Metric,
      $filters: [PropertyFilter!]) {
    timeseries(event: $event, from: $from, to: $to, interval: $interval, metric: $metric, filters: $filters) { bucket value } }`,
  { event: q.event, ...range, interval: intervalFor(q), metric: q.metric, filters });
}

function ready(q) {
  if (q.kind === "funnel") return q.steps.split(",").filter((s) => s.trim()).length >= 2;
  if (q.kind === "breakdown") return q.event && q.property;
  return Boolean(q.event);
}

function FunnelView({ funnel }) {
  const steps = funnel.steps;
  const ref = useRef(null);
  useEffect(() => { ref.current?.setAttribute("data-drawn", String(Date.now())); }, [funnel]);
  return html`<figure class="funnel" ref=${ref} aria-label="Funnel conversion">
    <table><thead><tr><th>Step</th><th>Actors</th><th>Conversion</th><th>Drop-off</th><th>Median time from previous</th></tr></thead>
    <tbody>${steps.map((s, i) => html`<tr data-testid="funnel-step">
      <td>${i + 1}. ${s.name}</td><td class="num">${fmt(s.count)}</td>
      <td class="num" data-testid="conversion">${pct(s.conversionRate)}
        <span class="bar" style=${`width:${100 * s.conversionRate}%`} aria-hidden="true"></span></td>
      <td class="num">${i ? fmt(steps[i - 1].count - s.count) : "–"}</td>
      <td class="num">${s.medianSecondsFromPrevious == null ? "–" : `${fmt(Math.round(s.medianSecondsFromPrevious))} s`}</td>
    </tr>`)}</tbody></table>
    ${funnel.breakdowns && html`<h3>By first step's property</h3><table><thead><tr><th>Value</th>
      ${steps.map((s) => html`<th>${s.name}</th>`)}</tr></thead><tbody>
      ${funnel.breakdowns.map((b) => html`<tr><td>${b.value ?? "(none)"}</td>
        ${b.steps.map((s) => html`<td class="num">${fmt(s.count)} (${pct(s.conversionRate)})</td>`)}</tr>`)}
    </tbody></table>`}
  </figure>`;
}

export function Insights({ project }) {
  const [q, setQ] = useQueryState({ kind: "timeseries", event: "", property: "", steps: "", days: "30", from: "", to: "",
                                    metric: "COUNT", window: "1209600", order: "SEQUENTIAL", filters: "" });
  const names = useLoad(() => gql(NAMES, rangeOf(90)), [project.slug]);
  const saved = useLoad(() => gql(SAVED), [project.slug]);
  const answer = useLoad(() => (ready(q) ? ask(q) : Promise.resolve(null)), [project.slug, JSON.stringify(q)]);
  const eventNames = (names.data?.topEvents || []).map((r) => r.value);
  const data = answer.data;
  return html`<section aria-labelledby="insights-title">
    <h1 id="insights-title">Insights</h1>
    ${saved.data?.savedInsights?.length ? html`<nav class="saved" aria-label="Saved insights">Saved:
      ${saved.data.savedInsights.map((s) => html`<a href=${`?${questionOf(s)}`}>${s.name}</a>`)}</nav>` : null}
    <form class="toolbar" onSubmit=${(e) => e.preventDefault()}>
      <${Select} id="kind" label="Question" value=${q.kind} options=${KINDS} onChange=${(kind) => setQ({ kind })} />
      ${q.kind !== "funnel" ? html`<label class="field">Event
          <input list="event-names" value=${q.event} onChange=${(e) => setQ({ event: e.target.value })} /></label>`
        : html`<label class="field wide">Steps (comma-separated)
          <input list="event-names" value=${q.steps} placeholder="signed_up, activated, paid"
            onChange=${(e) => setQ({ steps: e.target.value })} /></label>`}
      <datalist id="event-names">${eventNames.map((n) => html`<option value=${n} />`)}</datalist>
      ${q.kind !== "timeseries" ? html`<label class="field">${q.kind === "funnel" ? "Breakdown by" : "Property"}
          <input list="dimensions" value=${q.property} onChange=${(e) => setQ({ property: e.target.value })} /></label>
        <datalist id="dimensions">${DIMENSIONS.map((d) => html`<option value=${d} />`)}</datalist>` : null}
      <${RangePicker} state=${q} onChange=${setQ} />
      ${q.kind === "funnel" ? html`
        <${Select} id="window" label="Window" value=${q.window} options=${WINDOWS} onChange=${(window) => setQ({ window })} />
        <${Select} id="order" label="Order" value=${q.order} options=${ORDERS} onChange=${(order) => setQ({ order })} />`
        : html`<${Select} id="metric" label="Metric" value=${q.metric} options=${METRICS} onChange=${(metric) => setQ({ metric })} />`}
    </form>
    <${Filters} value=${q.filters} onChange=${(filters) => setQ({ filters })} />
    <${ErrorNote} error=${answer.error} />
    ${!ready(q) ? html`<${Empty} title="Ask a question">Pick an event${q.kind === "funnel" ? " for at least two steps" : ""}${q.kind === "breakdown" ? " and a property" : ""}.</${Empty}>` : null}
    ${answer.loading && ready(q) ? html`<p class="loading">Loading…</p>` : null}
    ${data?.timeseries && html`<${LineChart} title=${`${q.event} over time`} series=${[{ label: q.event, points: data.timeseries }]} />`}
    ${data?.breakdown && html`<${BarList} title=${`${q.event} by ${q.property}`} rows=${data.breakdown}
      valueLabel=${METRICS.find(([m]) => m === q.metric)[1]} />`}
    ${data?.funnel && html`<${FunnelView} funnel=${data.funnel} />`}
  </section>`;
}
