// Incidents: list by page, create, post updates, change state and impact, resolve and reopen; the
// audit history as a timeline, and the incident as it was at any moment.
import { useState } from "preact/hooks";
import { ErrorNote, gql, rest } from "../api.js";
import { Empty, Select, html, when, useLoad, useQueryState } from "../ui.js";

const STATES = [["investigating", "Investigating"], ["identified", "Identified"],
                ["monitoring", "Monitoring"], ["resolved", "Resolved"]];
const IMPACTS = [["none", "None"], ["minor", "Minor"], ["major", "Major"], ["critical", "Critical"]];
const PAGES = `{ pages { slug name } }`;
const LIST = `query L($page: String!, $after: String) { incidents(pageSlug: $page, first: 25, after: $after) {
  totalCount edges { node { id title impact state resolved createdAt updatedAt } }
  pageInfo { hasNextPage endCursor } } }`;
const ONE = `query I($id: ID!, $asOf: DateTime) { incident(id: $id, asOf: $asOf) {
  id pageSlug title impact state resolved resolvedAt createdAt updatedAt version
  updates { id message createdAt }
  history { version type occurredAt actor { keyId name } changes { field before after } } } }`;

const lower = (v) => String(v).toLowerCase();
// A posted update is a change whose value is the update itself: show its message, not its JSON.
const shown = (v) => (v === null || v === undefined || v === "" ? "nothing"
  : typeof v === "object" ? (typeof v.message === "string" ? `“${v.message}”` : JSON.stringify(v)) : String(v));

function Timeline({ history }) {
  return html`<ol class="timeline" aria-label="Audit history">${history.map((e) => html`<li>
    <p><strong>${e.actor.name}</strong> · ${e.type} · <time datetime=${e.occurredAt}>${when(e.occurredAt)}</time> · v${e.version}</p>
    <ul>${e.changes.map((c) => html`<li><code>${c.field}</code>: ${e.version === 1 ? html`set to <b>${shown(c.after)}</b>`
      : html`from <b>${shown(c.before)}</b> to <b>${shown(c.after)}</b>`}</li>`)}</ul></li>`)}</ol>`;
}

function Detail({ id, canWrite, onChanged }) {
  const [asOf, setAsOf] = useState("");
  const [error, setError] = useState(null);
  const { data, reload } = useLoad(() => gql(ONE, { id, asOf: asOf ? new Date(asOf).toISOString() : null }), [id, asOf]);
  const incident = data?.incident;
  if (!incident) return data ? html`<p>Not found.</p>` : html`<p class="loading">Loading…</p>`;
  const act = async (method, path, body, version) => {
    try {
      await rest(method, path, body, version ? { "If-Match": `"${version}"` } : {});
      setError(null); reload(); onChanged();
    } catch (err) { setError(err); }
  };
  const patch = (body) => act("PATCH", `/api/v1/incidents/${id}`, body, incident.version);
  const live = !asOf;
  return html`<article class="incident" aria-labelledby="incident-title">
    <h2 id="incident-title">${incident.title}</h2>
    <p><span class=${`badge ${lower(incident.state)}`}>${lower(incident.state)}</span>
      <span class=${`badge impact-${lower(incident.impact)}`}>${lower(incident.impact)} impact</span> · v${incident.version}</p>
    <label class="field">Show as of <input type="datetime-local" value=${asOf} onChange=${(e) => setAsOf(e.target.value)} />
      ${asOf && html`<button class="link" onClick=${() => setAsOf("")}>Back to now</button>`}</label>
    <${ErrorNote} error=${error} />
    ${canWrite && live ? html`<div class="actions">
      <${Select} id="state" label="State" value=${lower(incident.state)} options=${STATES} onChange=${(state) => patch({ state })} />
      <${Select} id="impact" label="Impact" value=${lower(incident.impact)} options=${IMPACTS} onChange=${(impact) => patch({ impact })} />
      ${incident.resolved ? html`<button onClick=${() => patch({ resolved: false })}>Reopen</button>`
        : html`<button onClick=${() => patch({ resolved: true })}>Resolve</button>`}
      <form class="inline" onSubmit=${(e) => { e.preventDefault(); const m = new FormData(e.target).get("message");
        act("POST", `/api/v1/incidents/${id}/updates`, { message: m }); e.target.reset(); }}>
        <label class="field wide">Post an update <input name="message" required /></label><button>Post</button></form>
    </div>` : null}
    <h3>Updates</h3>
    ${incident.updates.length ? html`<ol class="updates">${[...incident.updates].reverse().map((u) => html`<li>
      <time datetime=${u.createdAt}>${when(u.createdAt)}</time> ${u.message}</li>`)}</ol>`
      : html`<p>No updates yet.</p>`}
    <h3>History</h3><${Timeline} history=${incident.history} />
  </article>`;
}

export function Incidents({ project, path, navigate }) {
  const canWrite = project.role !== "viewer";
  const pages = useLoad(() => gql(PAGES), [project.slug]);
  const [q, setQ] = useQueryState({ page: "" });
  const page = q.page || pages.data?.pages?.[0]?.slug || "";
  const list = useLoad(() => (page ? gql(LIST, { page }) : Promise.resolve(null)), [page]);
  const [error, setError] = useState(null);
  const create = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      const made = await rest("POST", `/api/v1/pages/${page}/incidents`, { title: form.get("title"),
        impact: form.get("impact"), message: form.get("message") || undefined });
      e.target.reset(); list.reload(); navigate(`/app/${project.slug}/incidents/${made.id}${location.search}`);
    } catch (err) { setError(err); }
  };
  if (pages.data && !pages.data.pages.length) {
    return html`<${Empty} title="No status page yet">Create one with <code>POST /admin/v1/workspaces/{id}/pages</code>
      or in your <code>beacon.yml</code>, then open incidents on it here.</${Empty}>`;
  }
  const edges = list.data?.incidents?.edges || [];
  return html`<section aria-labelledby="incidents-title"><h1 id="incidents-title">Incidents</h1>
    <${ErrorNote} error=${pages.error || list.error || error} />
    <div class="toolbar"><${Select} id="page" label="Status page" value=${page}
      options=${(pages.data?.pages || []).map((p) => [p.slug, p.name])} onChange=${(v) => setQ({ page: v })} />
      <a href=${`/status/${page}`} target="_blank" rel="noopener">Public page ↗</a></div>
    ${canWrite ? html`<details class="create"><summary>Open an incident</summary><form onSubmit=${create}>
      <label class="field wide">Title <input name="title" required maxlength="200" /></label>
      <label class="field">Impact <select name="impact">${IMPACTS.map(([v, t]) => html`<option value=${v} selected=${v === "minor"}>${t}</option>`)}</select></label>
      <label class="field wide">First update <input name="message" /></label><button>Open</button></form></details>` : null}
    <div class="split">
      <ul class="list" aria-label="Incidents">${edges.map(({ node }) => html`<li>
        <a href=${`/app/${project.slug}/incidents/${node.id}${location.search}`} aria-current=${path[0] === node.id ? "true" : undefined}
          onClick=${(e) => { e.preventDefault(); navigate(`/app/${project.slug}/incidents/${node.id}${location.search}`); }}>
          ${node.title}</a> <span class=${`badge ${lower(node.state)}`}>${lower(node.state)}</span>
          <small>${when(node.createdAt)}</small></li>`)}
        ${list.data && !edges.length ? html`<li>No incidents on this page.</li>` : null}</ul>
      ${path[0] ? html`<${Detail} id=${path[0]} canWrite=${canWrite} onChanged=${list.reload} />` : null}
    </div></section>`;
}
