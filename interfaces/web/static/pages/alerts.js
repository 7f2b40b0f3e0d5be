// Alerts: each rule with its state, its history of state changes and the webhooks it sent. Members
// who write make a rule and try it on the last hours of stored history first (the preview: when it
// would have fired and resolved, telling no one), send its channels a test, change it (its
// webhooks too: those kept keep their secret), mute or unmute it, and delete it, unless
// beacon.yml owns it (the API would say 409: change it there).
// `?alert=<id>` (where a webhook's `links.alert` points) shows that rule outlined, its history open.
import { useEffect, useRef, useState } from "preact/hooks";
import { ErrorNote, gql, lastWritePosition, rest } from "../api.js";
import { Empty, html, when, useLoad, useQueryState } from "../ui.js";
import { RuleForm, describe, plural } from "./alert_form.js";

// A page of rules without their history (read when a rule's History is opened: a rule that has
// flapped for months has thousands of state changes).
const RULES = `query Rules($after: String) { alerts(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id name description state stateSince mutedUntil condition
  cooldownSeconds version managedBy { file version }
  channels { id url deliveries(first: 5) { id type status occurredAt nextAttemptAt attempts { statusCode error } } } } } } }`;
const MONITORS = `{ monitors(first: 100) { edges { node { id name } } } }`;
const ACTIVITY = `{ alertActivity(first: 50) { edges { node {
  alertId alertName state at value suppressed } } pageInfo { hasNextPage } } }`;
// A rule's state changes, newest first, a page at a time (one more asked: are there earlier ones?).
const HISTORY_PAGE = 50;
const HISTORY = `query History($id: ID!, $after: Int) { alert(id: $id) {
  history(first: ${HISTORY_PAGE + 1}, afterVersion: $after, newestFirst: true) {
    version state at value cause notified suppressed reason } } }`;

/** Every rule of the project, a page at a time (a project has at most
 * BEACON_ALERT_RULES_MAX_PER_WORKSPACE, 500 by default), and its monitors to choose from. */
async function everything(position) {
  const monitors = gql(MONITORS, {}, position);  // read beside the pages of rules
  const alerts = [];
  for (let after = null; ;) {
    const page = (await gql(RULES, { after }, position)).alerts;
    alerts.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return { alerts, monitors: (await monitors).monitors.edges.map((e) => e.node) };
}

/** What a firing's value counted: the exception groups (each a link to it), or the monitor. */
function causeOf(cause, slug) {
  if (!cause) return "";
  if (cause.monitor) return html` · monitor <a href=${`/app/${slug}/monitors/${cause.monitor.id}`}>${cause.monitor.name}</a>`;
  return (cause.groups || []).map((g) => html` · <a href=${`/app/${slug}/exceptions?group=${encodeURIComponent(g.fingerprint)}`}>${
    g.exception_type}: ${g.message}</a> (${plural(g.reports, "report", "reports")})`);
}

function attemptsOf(delivery) {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return "";
  const said = last.error || (last.statusCode ? `HTTP ${last.statusCode}` : "");
  return ` · ${plural(delivery.attempts.length, "attempt", "attempts")}${said ? `, last: ${said}` : ""}`
    + `${delivery.status === "pending" && delivery.nextAttemptAt ? `, next ${when(delivery.nextAttemptAt)}` : ""}`;
}

/** What a <details> shows, read once it is open (and again when `key` moves on): `onToggle` is
 * its handler. */
function useReadWhenOpen(read, key, open = false) {
  const [shown, setShown] = useState(open);
  const loaded = useLoad(() => (shown ? read() : Promise.resolve(null)), [shown, key]);
  return { ...loaded, shown, onToggle: (e) => setShown(e.target.open) };
}

/** A rule's state changes, newest first, read when opened (and again when the rule moves on);
 * "Earlier changes" reads the page before the oldest shown. */
function History({ alert, slug, open }) {
  const { data, error, shown, onToggle } = useReadWhenOpen(
    () => gql(HISTORY, { id: alert.id, after: null }), alert.version, open);
  const none = { entries: [], more: null, error: null, reading: false };
  const [earlier, setEarlier] = useState(none);
  // Earlier pages follow the latest page they were read after: read again (reopened, or the
  // rule moved on), it starts the list anew, and a page still on its way then is dropped.
  const generation = useRef(0);
  useEffect(() => { generation.current += 1; setEarlier(none); }, [data]);
  const first = data?.alert?.history;
  const history = first ? [...first.slice(0, HISTORY_PAGE), ...earlier.entries] : null;
  const more = earlier.more ?? (first ? first.length > HISTORY_PAGE : false);
  const readEarlier = async () => {
    const asked = generation.current;
    setEarlier((e) => ({ ...e, reading: true }));
    try {
      const page = (await gql(HISTORY, { id: alert.id, after: history[history.length - 1].version })).alert.history;
      if (asked !== generation.current) return;
      setEarlier((e) => ({ entries: [...e.entries, ...page.slice(0, HISTORY_PAGE)],
                           more: page.length > HISTORY_PAGE, error: null, reading: false }));
    } catch (err) { if (asked === generation.current) setEarlier((e) => ({ ...e, error: err, reading: false })); }
  };
  return html`<details open=${open} onToggle=${onToggle}><summary>History</summary>
    <${ErrorNote} error=${error || earlier.error} />
    ${history ? html`<ol class="timeline" aria-label=${`History of ${alert.name}`}>${history.map((h) => html`<li>
      <time datetime=${h.at}>${when(h.at)}</time> <b>${h.state}</b>
      ${h.value === null ? "" : ` at ${h.value}`}${h.reason ? ` (${h.reason})` : ""}${causeOf(h.cause, slug)}
      ${h.suppressed ? ` · told no one (${h.suppressed})` : h.notified.length ? ` · ${plural(h.notified.length, "channel", "channels")} told` : ""}</li>`)}</ol>
      ${more ? html`<button class="link" disabled=${earlier.reading} onClick=${readEarlier}>Earlier changes</button>` : null}`
      : shown && !error ? html`<p class="sub">Loading…</p>` : null}</details>`;
}

function Rule({ alert, canWrite, monitors, onChanged, slug, focused }) {
  const [problem, setProblem] = useState(null);
  const card = useRef(null);
  useEffect(() => { if (focused) card.current?.scrollIntoView({ block: "start" }); }, [focused]);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const act = async (method, path, body, headers) => {
    try { await rest(method, path, body, headers); setProblem(null); onChanged(); }
    catch (err) { setProblem(err); }
  };
  const mute = (until) => act("POST", `/api/v1/alerts/${alert.id}/mute`, { until });
  const owned = Boolean(alert.managedBy);
  return html`<article class=${`card${focused ? " focused" : ""}`} aria-label=${alert.name}
      aria-current=${focused ? "true" : undefined} ref=${card}>
    <h2>${alert.name} <span class=${`badge ${alert.state === "firing" ? "down" : "up"}`}>${alert.state}</span></h2>
    <p class="sub">${describe(alert.condition)}${alert.stateSince ? ` · ${alert.state} since ${when(alert.stateSince)}` : ""}
      ${alert.mutedUntil ? ` · muted until ${when(alert.mutedUntil)}` : ""}
      ${owned ? html` · managed by <code>${alert.managedBy.file}</code> (version ${alert.managedBy.version})` : null}</p>
    ${alert.description ? html`<p class="description">${alert.description}</p>` : null}
    <p class="sub">Tells ${alert.channels.map((c) => c.url).join(", ")} · quiet for ${alert.cooldownSeconds} s after firing</p>
    <${ErrorNote} error=${problem} />
    ${canWrite ? html`<div class="actions">
      <button onClick=${() => act("POST", `/api/v1/alerts/${alert.id}/test`)}>Send a test</button>
      ${alert.mutedUntil ? html`<button onClick=${() => mute(null)}>Unmute</button>`
        : html`<button onClick=${() => mute(new Date(Date.now() + 3600000).toISOString())}>Mute 1 hour</button>`}
      ${owned ? null : html`<button onClick=${() => setEditing(!editing)}>Change</button>
        ${deleting ? html`<button class="destructive" onClick=${() => act("DELETE", `/api/v1/alerts/${alert.id}`)}>
            Delete ${alert.name} for good</button>
          <button class="link" onClick=${() => setDeleting(false)}>Keep it</button>`
          : html`<button onClick=${() => setDeleting(true)}>Delete…</button>`}`}
    </div>` : null}
    ${editing ? html`<${RuleForm} monitors=${monitors} editing=${alert}
      onDone=${() => { setEditing(false); onChanged(); }} />` : null}
    <details><summary>Webhooks sent</summary>${alert.channels.map((c) => html`<div>
      <p class="sub">${c.url}</p>${c.deliveries.length ? html`<ul class="list" aria-label=${`Webhooks to ${c.url}`}>
      ${c.deliveries.map((d) => html`<li><time datetime=${d.occurredAt}>${when(d.occurredAt)}</time> ${d.type}
        <span class=${`badge ${d.status === "delivered" ? "up" : d.status === "pending" ? "late" : "down"}`}>${d.status}</span>
        ${attemptsOf(d)}</li>`)}</ul>` : html`<p>None yet.</p>`}</div>`)}</details>
    <${History} alert=${alert} slug=${slug} open=${focused} />
  </article>`;
}

/** What every rule did in the last day, newest first (opened: read then, and on each change). */
function Activity({ slug, version }) {
  const { data, error, onToggle } = useReadWhenOpen(
    () => gql(ACTIVITY, {}, lastWritePosition()), version);
  const entries = (data?.alertActivity?.edges || []).map((e) => e.node);
  return html`<details class="activity" onToggle=${onToggle}>
    <summary>The last day's firings and resolutions</summary>
    <${ErrorNote} error=${error} />
    ${data && !entries.length ? html`<p class="sub">Nothing fired or resolved in the last day.</p>` : null}
    ${entries.length ? html`<ol class="timeline" aria-label="Alert activity">${entries.map((e) => html`<li>
      <time datetime=${e.at}>${when(e.at)}</time> <a href=${`/app/${slug}/alerts?alert=${e.alertId}`}>${
        e.alertName}</a> <b>${e.state}</b>${e.value === null ? "" : ` at ${e.value}`}${
        e.suppressed ? ` · told no one (${e.suppressed})` : ""}</li>`)}</ol>` : null}
    ${data?.alertActivity?.pageInfo.hasNextPage ? html`<p class="sub">The 50 latest are shown;
      <code>GET /api/v1/alerts/activity</code> pages through the rest.</p>` : null}
  </details>`;
}

export function Alerts({ project }) {
  const canWrite = project.role !== "viewer";
  const { data, error, reload } = useLoad(() => everything(lastWritePosition()), [project.slug]);
  const [creating, setCreating] = useState(false);
  const [q] = useQueryState({ alert: "" });  // the rule a webhook's link names: shown open
  const alerts = [...(data?.alerts || [])]
    .sort((a, b) => (b.state === "firing") - (a.state === "firing"));  // firing first, stable
  const firing = alerts.filter((a) => a.state === "firing").length;
  const monitors = data?.monitors || [];
  return html`<section aria-labelledby="alerts-title"><h1 id="alerts-title">Alerts</h1>
    ${alerts.length ? html`<p class="sub" data-testid="alerts-summary">${firing
      ? `${firing} of ${plural(alerts.length, "rule", "rules")} firing` : `${plural(alerts.length, "rule", "rules")}, none firing`}</p>` : null}
    <${ErrorNote} error=${error} />
    ${alerts.length ? html`<${Activity} slug=${project.slug} version=${alerts.map((a) => a.version).join()} />` : null}
    ${canWrite ? html`<details class="create" open=${creating} onToggle=${(e) => setCreating(e.target.open)}>
      <summary>New alert rule</summary>
      ${creating ? html`<${RuleForm} monitors=${monitors} onDone=${() => { setCreating(false); reload(); }} />` : null}
    </details>` : null}
    ${data && !alerts.length ? html`<${Empty} title="No alert rules yet">${canWrite
      ? "Make one above, and try it on the last hours first with Preview."
      : html`Members who write make them here, or with <code>POST /api/v1/alerts</code>.`}</${Empty}>` : null}
    ${alerts.map((a) => html`<${Rule} key=${a.id} alert=${a} canWrite=${canWrite} monitors=${monitors} onChanged=${reload} slug=${project.slug} focused=${a.id === q.alert} />`)}
  </section>`;
}
