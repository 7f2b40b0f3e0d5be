// Sessions: the latest sessions, and one session's timeline of events.
import { ErrorNote, gql } from "../api.js";
import { Empty, RangePicker, fmt, html, rangeOf, when, useLoad, useQueryState } from "../ui.js";

const LIST = `query S($from: DateTime, $to: DateTime, $actor: String, $after: String) {
  sessions(from: $from, to: $to, actorId: $actor, first: 50, after: $after) {
    edges { node { id actorId sourceApp sourceVersion startedAt endedAt endReason durationSeconds } }
    pageInfo { hasNextPage endCursor } } }`;
const ONE = `query T($id: ID!) { session(id: $id) { id actorId sourceApp startedAt endedAt endReason
  events(first: 500) { edges { node { eventId name category timestamp properties } } } } }`;

function Timeline({ id }) {
  const { data, error } = useLoad(() => gql(ONE, { id }), [id]);
  const session = data?.session;
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (!session) return data ? html`<p>Session not found.</p>` : html`<p class="loading">Loading…</p>`;
  return html`<article aria-labelledby="session-title"><h2 id="session-title">Session of ${session.actorId}</h2>
    <p>${session.sourceApp} · ${when(session.startedAt)} → ${session.endedAt ? when(session.endedAt) : "ongoing"}
      ${session.endReason ? ` (${session.endReason})` : ""}</p>
    <ol class="timeline">${session.events.edges.map(({ node }) => html`<li>
      <time datetime=${node.timestamp}>${when(node.timestamp)}</time> <b>${node.name}</b> <small>${node.category}</small>
      ${node.properties ? html`<code class="props">${JSON.stringify(node.properties)}</code>` : null}</li>`)}</ol>
  </article>`;
}

export function Sessions({ project, path, navigate }) {
  const [q, setQ] = useQueryState({ days: "7", from: "", to: "", actor: "" });
  const { data, error } = useLoad(() => gql(LIST, { ...rangeOf(q), actor: q.actor || null }),
                                  [project.slug, q.days, q.from, q.to, q.actor]);
  const edges = data?.sessions?.edges || [];
  const open = (e, id) => { e.preventDefault(); navigate(`/app/${project.slug}/sessions/${id}${location.search}`); };
  return html`<section aria-labelledby="sessions-title"><h1 id="sessions-title">Sessions</h1>
    <div class="toolbar"><${RangePicker} state=${q} onChange=${setQ} /><label class="field">Actor <input value=${q.actor} onChange=${(e) => setQ({ actor: e.target.value })} /></label></div>
    <${ErrorNote} error=${error} />
    ${data && !edges.length ? html`<${Empty} title="No sessions in the last ${q.days} days">SDKs start sessions with
      <code>POST /v1/events/sessions</code>.</${Empty}>` : null}
    <div class="split">
      <table class="list"><thead><tr><th>Actor</th><th>App</th><th>Started</th><th>Duration</th></tr></thead>
      <tbody>${edges.map(({ node }) => html`<tr aria-current=${path[0] === node.id ? "true" : undefined}>
        <td><a href=${`/app/${project.slug}/sessions/${node.id}`} onClick=${(e) => open(e, node.id)}>${node.actorId}</a></td>
        <td>${node.sourceApp} ${node.sourceVersion}</td><td>${when(node.startedAt)}</td>
        <td class="num">${node.durationSeconds == null ? "ongoing" : `${fmt(Math.round(node.durationSeconds))} s`}</td></tr>`)}</tbody></table>
      ${path[0] ? html`<${Timeline} id=${path[0]} />` : null}
    </div></section>`;
}
