// Overview: what is firing now, events over time against the previous period, top events,
// actors, sessions, quota.
import { gql, ErrorNote } from "../api.js";
import { BarList, LineChart } from "../chart.js";
import { Empty, RangePicker, Select, fmt, html, intervalFor, rangeOf, useLoad, useQueryState, when } from "../ui.js";
import { GettingStarted } from "./start.js";

// Two requests, sent together: the chart draws as soon as its counts arrive, while the distinct
// counts (which read every actor and session of the range) fill the cards.
const CHART = `query OverviewChart($from: DateTime!, $to: DateTime!, $prevFrom: DateTime!, $prevTo: DateTime!,
    $interval: Interval!) {
  current: timeseries(from: $from, to: $to, interval: $interval) { bucket value }
  previous: timeseries(from: $prevFrom, to: $prevTo, interval: $interval) { bucket value }
}`;
const CARDS = `query OverviewCards($from: DateTime!, $to: DateTime!) {
  topEvents(from: $from, to: $to, limit: 10) { value count }
  actors: metric(from: $from, to: $to, metric: UNIQUE_ACTORS)
  sessions: metric(from: $from, to: $to, metric: SESSIONS)
  usage { period limit used remaining refused }
}`;

const FIRING = `{ alerts(state: FIRING, first: 10) { totalCount edges { node { id name stateSince } } } }`;

/** The alert rules firing now, each a link to it on the Alerts page; nothing when none is. */
function Firing({ project }) {
  const { data } = useLoad(() => gql(FIRING), [project.slug]);
  const firing = data?.alerts;
  if (!firing || !firing.totalCount) return null;
  const more = firing.totalCount - firing.edges.length;
  return html`<p class="firing" role="status" data-testid="firing-alerts">
    <b>${firing.totalCount} alert rule${firing.totalCount === 1 ? "" : "s"} firing:</b>
    ${firing.edges.map(({ node }, i) => html`${i ? ", " : " "}<a href=${`/app/${project.slug}/alerts?alert=${node.id}`}>${
      node.name}</a> (since ${when(node.stateSince)})`)}${more > 0 ? html`, and <a
      href=${`/app/${project.slug}/alerts`}>${more} more</a>` : null}</p>`;
}

const INTERVALS = [["HOUR", "Hourly"], ["DAY", "Daily"], ["WEEK", "Weekly"]];

export function Overview({ project }) {
  const [q, setQ] = useQueryState({ days: "7", from: "", to: "", interval: "", compare: "1" });
  const interval = q.interval || intervalFor(q);
  const keys = [project.slug, q.days, q.from, q.to, interval];
  const { data, error, loading } = useLoad(() => {
    const now = rangeOf(q), before = rangeOf(q, true);
    return gql(CHART, { from: now.from, to: now.to, prevFrom: before.from, prevTo: before.to, interval });
  }, keys);
  const cards = useLoad(() => gql(CARDS, rangeOf(q)), keys);
  const total = data ? data.current.reduce((s, p) => s + p.value, 0) : 0;
  const previousTotal = data ? data.previous.reduce((s, p) => s + p.value, 0) : 0;
  const usage = cards.data?.usage;
  const loadingCard = html`<span class="loading" aria-busy="true">…</span>`;
  return html`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Overview</h1>
    <${Firing} project=${project} />
    <div class="toolbar">
      <${RangePicker} state=${q} onChange=${setQ} />
      <${Select} id="interval" label="Interval" value=${interval} options=${INTERVALS} onChange=${(v) => setQ({ interval: v })} />
      <label class="field check"><input type="checkbox" checked=${q.compare === "1"}
        onChange=${(e) => setQ({ compare: e.target.checked ? "1" : "0" })} /> Compare with previous period</label>
    </div>
    <${ErrorNote} error=${error || cards.error} />
    ${loading && !data ? html`<p class="loading">Loading…</p>` : null}
    ${data && html`
      <div class="cards">
        <div class="card"><h2>Events</h2><p class="big" data-testid="total-events">${fmt(total)}</p>
          <p class="sub">${fmt(previousTotal)} in the previous period</p></div>
        <div class="card"><h2>Unique actors</h2><p class="big">${cards.data ? fmt(cards.data.actors) : loadingCard}</p></div>
        <div class="card"><h2>Sessions</h2><p class="big">${cards.data ? fmt(cards.data.sessions) : loadingCard}</p></div>
        <div class="card"><h2>Quota${usage ? ` (${usage.period})` : ""}</h2>${usage ? html`
          <div class="meter" role="meter" aria-valuemin="0" aria-valuemax=${usage.limit} aria-valuenow=${usage.used}
            aria-label="Events used this month"><span style=${`width:${usage.limit ? Math.min(100, (100 * usage.used) / usage.limit) : 0}%`}></span></div>
          <p class="sub">${fmt(usage.used)} of ${fmt(usage.limit)} events · ${fmt(usage.refused)} refused</p>` : loadingCard}</div>
      </div>
      ${total === 0 && previousTotal === 0 ? html`<${GettingStarted} project=${project} />` : html`
        <h2>Events over time</h2>
        <${LineChart} title="Events over time" series=${[{ label: "This period", points: data.current },
          ...(q.compare === "1" ? [{ label: "Previous period", points: data.previous }] : [])]} />
        <h2>Top events</h2>
        ${!cards.data ? loadingCard : cards.data.topEvents.length
          ? html`<${BarList} title="Top events" rows=${cards.data.topEvents} valueLabel="Events" />`
          : html`<${Empty} title="No events in this range" />`}`}`}
  </section>`;
}
