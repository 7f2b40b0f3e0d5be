// Alerts: each rule with its state, and its history of state changes; mute for members who write.
import { useState } from "preact/hooks";
import { ErrorNote, gql, rest } from "../api.js";
import { Empty, html, when, useLoad } from "../ui.js";

const LIST = `{ alerts(first: 100) { edges { node { id name state stateSince mutedUntil condition
  cooldownSeconds managedBy { file version } history { version state at value notified suppressed } } } } }`;

function describe(condition) {
  if (condition.type === "threshold") {
    return `${condition.metric || "count"} of ${condition.event} over ${condition.window_seconds} s ${condition.op} ${condition.value}`;
  }
  if (condition.type === "monitor") return `monitor ${condition.trigger}`;
  return `exception group: ${condition.trigger}`;
}

export function Alerts({ project }) {
  const canWrite = project.role !== "viewer";
  const { data, error, reload } = useLoad(() => gql(LIST), [project.slug]);
  const [problem, setProblem] = useState(null);
  const alerts = (data?.alerts?.edges || []).map((e) => e.node);
  const mute = async (id, hours) => {
    try {
      await rest("POST", `/api/v1/alerts/${id}/mute`, { until: new Date(Date.now() + hours * 3600000).toISOString() });
      setProblem(null); reload();
    } catch (err) { setProblem(err); }
  };
  return html`<section aria-labelledby="alerts-title"><h1 id="alerts-title">Alerts</h1>
    <${ErrorNote} error=${error || problem} />
    ${data && !alerts.length ? html`<${Empty} title="No alert rules yet">Create one with
      <code>POST /api/v1/alerts</code>; try it on past data first with <code>POST /api/v1/alerts/preview</code>.</${Empty}>` : null}
    ${alerts.map((a) => html`<article class="card" aria-label=${a.name}>
      <h2>${a.name} <span class=${`badge ${a.state === "firing" ? "down" : "up"}`}>${a.state}</span></h2>
      <p class="sub">${describe(a.condition)} · since ${when(a.stateSince)}
        ${a.mutedUntil ? ` · muted until ${when(a.mutedUntil)}` : ""}
        ${a.managedBy ? html` · managed by <code>${a.managedBy.file}</code> (version ${a.managedBy.version})` : null}</p>
      ${canWrite ? html`<button onClick=${() => mute(a.id, 1)}>Mute 1 hour</button>` : null}
      <details><summary>History</summary><ol class="timeline">${a.history.map((h) => html`<li>
        <time datetime=${h.at}>${when(h.at)}</time> <b>${h.state}</b>
        ${h.value === null ? "" : ` at ${h.value}`} ${h.suppressed ? ` · told no one (${h.suppressed})`
          : h.notified.length ? ` · ${h.notified.length} channel(s) told` : ""}</li>`)}</ol></details>
    </article>`)}
  </section>`;
}
