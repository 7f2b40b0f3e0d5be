// Settings for admins and owners: the project's API keys (create with the secret shown once,
// revoke), and for owners the deletion of the project, confirmed by typing its slug.
import { useState } from "preact/hooks";
import { ErrorNote, gql, lastWritePosition, rest } from "../api.js";
import { html, when, useLoad } from "../ui.js";

const SCOPES = ["ingest", "read", "write", "deploy", "manage"];
const KEYS = `{ apiKeys { id name scopes prefix createdAt createdBy revokedAt revokedBy } }`;

export function ApiKeys({ project }) {
  const { data, error, reload } = useLoad(() => gql(KEYS, {}, lastWritePosition()), [project.slug]);
  const [problem, setProblem] = useState(null);
  const [made, setMade] = useState(null);
  const base = `/api/v1/workspaces/${project.slug}/keys`;
  const act = async (call) => { try { await call(); setProblem(null); reload(); } catch (e) { setProblem(e); } };
  const create = (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const scopes = SCOPES.filter((s) => form.get(`scope-${s}`));
    act(async () => {
      setMade(await rest("POST", base, { name: form.get("name"), scopes }));
      e.target.reset();
    });
  };
  const keys = data?.apiKeys || [];
  return html`<section aria-labelledby="keys-title"><h2 id="keys-title">API keys</h2>
    <p class="hint">Keys are for machines: SDKs send events with an ingest key (<code>pk_live_…</code>,
      safe in a browser), CI and scripts use the others (<code>sk_live_…</code>, keep them secret).</p>
    <${ErrorNote} error=${error || problem} />
    <table><thead><tr><th>Name</th><th>Key</th><th>Scopes</th><th>Created</th><th>State</th><th></th></tr></thead>
    <tbody>${keys.map((k) => html`<tr data-testid="api-key">
      <td>${k.name}</td><td><code>${k.prefix}</code></td><td>${k.scopes.join(", ")}</td>
      <td><time datetime=${k.createdAt}>${when(k.createdAt)}</time> by ${k.createdBy}</td>
      <td>${k.revokedAt ? html`<span class="badge">revoked</span> by ${k.revokedBy}` : html`<span class="badge up">active</span>`}</td>
      <td>${k.revokedAt ? null : html`<button class="link" aria-label=${`Revoke ${k.name}`}
        onClick=${() => confirm(`Revoke the key ${k.name}? Requests with it are refused from now on.`)
          && act(() => rest("DELETE", `${base}/${k.id}`))}>Revoke</button>`}</td>
    </tr>`)}</tbody></table>
    <form class="actions" onSubmit=${create} aria-label="New API key">
      <label class="field wide">Key name <input name="name" required maxlength="255" placeholder="ci deploys" /></label>
      <fieldset class="inline"><legend class="hint">Scopes</legend>
        ${SCOPES.map((s) => html`<label class="field check"><input type="checkbox" name=${`scope-${s}`} checked=${s === "ingest"} /> ${s}</label>`)}
      </fieldset>
      <button>Create key</button></form>
    ${made ? html`<p class="secret" data-testid="new-key">The key <b>${made.name}</b>, shown only this
      once: <code>${made.key}</code></p>` : null}
  </section>`;
}

export function DeleteProject({ project }) {
  const [typed, setTyped] = useState("");
  const [problem, setProblem] = useState(null);
  const remove = async (e) => {
    e.preventDefault();
    try {
      await rest("DELETE", `/api/projects/${project.slug}`, { confirm: typed });
      location.assign("/app");
    } catch (err) { setProblem(err); }
  };
  return html`<section class="danger" aria-labelledby="danger-title"><h2 id="danger-title">Delete this project</h2>
    <p>Its keys stop working at once, its status pages and monitors go away, and its data leaves the
      dashboard. Its history is kept for audit, and its slug is never given to another project.</p>
    <form class="inline" onSubmit=${remove}>
      <label class="field wide"><span>Type <code>${project.slug}</code> to confirm</span>
        <input value=${typed} onInput=${(e) => setTyped(e.target.value)} autocomplete="off" /></label>
      <button class="destructive" disabled=${typed !== project.slug}>Delete project</button></form>
    <${ErrorNote} error=${problem} />
  </section>`;
}
