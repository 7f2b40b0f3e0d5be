// Monitors: status, last beat, beat history, runs, status changes and uptime bars; pause, resume,
// rotate for members who may write, unless beacon.yml owns the monitor (the API would say 409).
import { useState } from "preact/hooks";
import { ErrorNote, gql, rest } from "../api.js";
import { Empty, html, pct, when, useLoad } from "../ui.js";

const LIST = `{ monitors(first: 100) { edges { node { id name status statusSince lastBeatAt nextExpectedAt
  periodSeconds schedule { cron tz } } } } }`;
const ONE = `query M($id: ID!, $from: DateTime!, $to: DateTime!) { monitor(id: $id) {
  id name status statusSince lastBeatAt nextExpectedAt periodSeconds graceSeconds schedule { cron tz }
  managedBy { file version }
  beats(first: 30) { at kind rid exitStatus body }
  runs(first: 20) { rid startedAt endedAt durationMs outcome exitStatus }
  flips(first: 20) { at before after reason }
  uptime(from: $from, to: $to) { uptimePercent intervals { from uptimePercent } } } }`;

function UptimeBars({ uptime }) {
  const days = uptime.intervals;
  const colour = (p) => (p === null ? "none" : p >= 0.999 ? "ok" : p >= 0.95 ? "warn" : "bad");
  return html`<figure class="uptime" aria-label=${`Uptime over ${days.length} days: ${pct(uptime.uptimePercent / 100)}`}>
    <div class="uptime-bars">${days.map((d) => html`<span class=${`u-${colour(d.uptimePercent === null ? null : d.uptimePercent / 100)}`}
      title=${`${d.from.slice(0, 10)}: ${d.uptimePercent === null ? "no data" : pct(d.uptimePercent / 100)}`}></span>`)}</div>
    <figcaption>${pct(uptime.uptimePercent / 100)} uptime over the last ${days.length} days</figcaption></figure>`;
}

function Detail({ id, canWrite, onChanged }) {
  const to = new Date(), from = new Date(to - 90 * 86400000);
  const { data, error, reload } = useLoad(() => gql(ONE, { id, from: from.toISOString(), to: to.toISOString() }), [id]);
  const [problem, setProblem] = useState(null);
  const [token, setToken] = useState(null);
  const m = data?.monitor;
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (!m) return data ? html`<p>Monitor not found.</p>` : html`<p class="loading">Loading…</p>`;
  const act = async (what) => {
    try {
      const answer = await rest("POST", `/api/v1/monitors/${id}/${what}`, {});
      if (what === "rotate") setToken(answer.ping_url || answer.token);
      setProblem(null); reload(); onChanged();
    } catch (err) { setProblem(err); }
  };
  return html`<article aria-labelledby="monitor-title"><h2 id="monitor-title">${m.name}</h2>
    <p><span class=${`badge ${m.status}`}>${m.status}</span> since ${when(m.statusSince)} ·
      ${m.schedule ? html`cron <code>${m.schedule.cron}</code> (${m.schedule.tz})` : `every ${m.periodSeconds ?? "learned"} s`}</p>
    <p>Last beat ${when(m.lastBeatAt)} · next expected ${when(m.nextExpectedAt)}</p>
    <${ErrorNote} error=${problem} />
    ${m.managedBy ? html`<p class="note">Managed by <code>${m.managedBy.file}</code> (version ${m.managedBy.version}):
      change it there and deploy.</p>` : null}
    ${canWrite && !m.managedBy ? html`<div class="actions">
      ${m.status === "paused" ? html`<button onClick=${() => act("resume")}>Resume</button>`
        : html`<button onClick=${() => act("pause")}>Pause</button>`}
      <button onClick=${() => act("rotate")}>Rotate token</button></div>` : null}
    ${token ? html`<p class="secret">New ping URL (shown once): <code>${token}</code></p>` : null}
    <h3>Uptime</h3><${UptimeBars} uptime=${m.uptime} />
    <h3>Status changes</h3><table><thead><tr><th>When</th><th>From</th><th>To</th><th>Why</th></tr></thead>
      <tbody>${m.flips.map((f) => html`<tr><td>${when(f.at)}</td><td>${f.before}</td><td>${f.after}</td><td>${f.reason}</td></tr>`)}</tbody></table>
    <h3>Runs</h3><table><thead><tr><th>Started</th><th>Duration</th><th>Outcome</th><th>Exit</th></tr></thead>
      <tbody>${m.runs.map((r) => html`<tr><td>${when(r.startedAt)}</td><td class="num">${r.durationMs ?? "–"} ms</td>
        <td>${r.outcome}</td><td>${r.exitStatus ?? ""}</td></tr>`)}</tbody></table>
    <h3>Beats</h3><ol class="timeline">${m.beats.map((b) => html`<li><time>${when(b.at)}</time> <b>${b.kind}</b>
      ${b.rid ? html` run <code>${b.rid}</code>` : null}${b.body ? html`<pre>${b.body}</pre>` : null}</li>`)}</ol>
  </article>`;
}

export function Monitors({ project, path, navigate }) {
  const canWrite = project.role !== "viewer";
  const { data, error, reload } = useLoad(() => gql(LIST), [project.slug]);
  const monitors = (data?.monitors?.edges || []).map((e) => e.node);
  const open = (e, id) => { e.preventDefault(); navigate(`/app/${project.slug}/monitors/${id}`); };
  return html`<section aria-labelledby="monitors-title"><h1 id="monitors-title">Monitors</h1>
    <${ErrorNote} error=${error} />
    ${data && !monitors.length ? html`<${Empty} title="No monitors yet">Create one with
      <code>POST /api/v1/monitors</code> or in <code>beacon.yml</code>, then have your job call its ping URL.</${Empty}>` : null}
    <div class="split">
      <table class="list"><thead><tr><th>Monitor</th><th>Status</th><th>Last beat</th></tr></thead>
      <tbody>${monitors.map((m) => html`<tr aria-current=${path[0] === m.id ? "true" : undefined}>
        <td><a href=${`/app/${project.slug}/monitors/${m.id}`} onClick=${(e) => open(e, m.id)}>${m.name}</a></td>
        <td><span class=${`badge ${m.status}`}>${m.status}</span></td><td>${when(m.lastBeatAt)}</td></tr>`)}</tbody></table>
      ${path[0] ? html`<${Detail} id=${path[0]} canWrite=${canWrite} onChanged=${reload} />` : null}
    </div></section>`;
}
