// Exceptions: groups with counts, first and last seen, a sparkline; the latest report's stack and breadcrumbs
// (the group open is in the URL: ?group=<fingerprint>, where an alert's firing links to).
import { ErrorNote, gql } from "../api.js";
import { Empty, RangePicker, fmt, html, rangeOf, when, useLoad, useQueryState } from "../ui.js";

const LIST = `query E($from: DateTime!, $to: DateTime!) { exceptionGroups(from: $from, to: $to, first: 50) {
  edges { node { fingerprint exceptionType message severity count actors firstSeen lastSeen versions
    daily latest { stackTrace breadcrumbs } } } } }`;

function Sparkline({ values }) {
  const max = Math.max(1, ...values), w = 100, h = 24;
  const points = values.map((v, i) => `${(i * w) / Math.max(1, values.length - 1)},${h - (v / max) * h}`).join(" ");
  return html`<svg class="sparkline" viewBox=${`0 0 ${w} ${h}`} role="img"
    aria-label=${`Reports per day: ${values.join(", ")}`}><polyline points=${points} /></svg>`;
}

export function Exceptions({ project }) {
  const [q, setQ] = useQueryState({ days: "7", from: "", to: "", group: "" });  // group: the one open
  const { data, error } = useLoad(() => gql(LIST, rangeOf(q)), [project.slug, q.days, q.from, q.to]);
  const open = q.group || null;
  const setOpen = (fingerprint) => setQ({ group: fingerprint || "" });
  const groups = (data?.exceptionGroups?.edges || []).map((e) => e.node);
  return html`<section aria-labelledby="exceptions-title"><h1 id="exceptions-title">Exceptions</h1>
    <div class="toolbar"><${RangePicker} state=${q} onChange=${setQ} /></div>
    <${ErrorNote} error=${error} />
    ${data && !groups.length ? html`<${Empty} title="No exceptions reported">SDKs report them with
      <code>POST /v1/events/exceptions</code>.</${Empty}>` : null}
    <table class="list"><thead><tr><th>Exception</th><th>Reports</th><th>Actors</th><th>Trend</th><th>First seen</th><th>Last seen</th></tr></thead>
    <tbody>${groups.map((g) => html`<tr>
      <td><button class="link" aria-expanded=${open === g.fingerprint} onClick=${() => setOpen(open === g.fingerprint ? null : g.fingerprint)}>
        <b>${g.exceptionType}</b></button> ${g.message} <span class=${`badge ${g.severity}`}>${g.severity}</span></td>
      <td class="num">${fmt(g.count)}</td><td class="num">${fmt(g.actors)}</td><td><${Sparkline} values=${g.daily} /></td>
      <td>${when(g.firstSeen)}</td><td>${when(g.lastSeen)}</td></tr>
      ${open === g.fingerprint ? html`<tr class="detail"><td colspan="6">
        <h3>Stack trace</h3><pre>${g.latest.stackTrace || "(none)"}</pre>
        <h3>Breadcrumbs</h3>${(g.latest.breadcrumbs || []).length ? html`<ol>${g.latest.breadcrumbs.map((b) => html`<li>
          <code>${JSON.stringify(b)}</code></li>`)}</ol>` : html`<p>(none)</p>`}
        <p>Versions: ${g.versions.join(", ") || "–"}</p></td></tr>` : null}`)}</tbody></table>
  </section>`;
}
