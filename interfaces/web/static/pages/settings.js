// Settings: the project's members (admins invite and change roles), its keys and deploy history
// (admins), and its deletion (owners).
import { useState } from "preact/hooks";
import { ErrorNote, gql, rest } from "../api.js";
import { html, when, useLoad } from "../ui.js";
import { ApiKeys, DeleteProject } from "./keys.js";

const ROLES = ["viewer", "member", "admin", "owner"];
const MEMBERS = `{ members { userId email role } }`;
const DEPLOYS = `{ deploys { version author { name } deployedAt diff rolledBackFrom } }`;

function Members({ project }) {
  const canManage = project.role === "admin" || project.role === "owner";
  const { data, error, reload } = useLoad(() => gql(MEMBERS), [project.slug]);
  const [problem, setProblem] = useState(null);
  const [link, setLink] = useState(null);
  const act = async (call) => { try { await call(); setProblem(null); reload(); } catch (e) { setProblem(e); } };
  const invite = (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    act(async () => {
      const made = await rest("POST", `/api/v1/workspaces/${project.slug}/invitations`,
                              { email: form.get("email"), role: form.get("role") });
      setLink(`${location.origin}${made.link}`);
      e.target.reset();
    });
  };
  const base = `/api/v1/workspaces/${project.slug}/members`;
  return html`<section aria-labelledby="members-title"><h2 id="members-title">Members</h2>
    <${ErrorNote} error=${error || problem} />
    <table><thead><tr><th>Email</th><th>Role</th>${canManage ? html`<th></th>` : null}</tr></thead>
    <tbody>${(data?.members || []).map((m) => html`<tr><td>${m.email}</td>
      <td>${canManage ? html`<select aria-label=${`Role of ${m.email}`} value=${m.role}
          onChange=${(e) => act(() => rest("PATCH", `${base}/${m.userId}`, { role: e.target.value }))}>
          ${ROLES.map((r) => html`<option value=${r} selected=${r === m.role}>${r}</option>`)}</select>` : m.role}</td>
      ${canManage ? html`<td><button class="link" onClick=${() => act(() => rest("DELETE", `${base}/${m.userId}`))}>Remove</button></td>` : null}
    </tr>`)}</tbody></table>
    ${canManage ? html`<form class="inline" onSubmit=${invite}>
      <label class="field wide">Invite by email <input name="email" type="email" required /></label>
      <label class="field">Role <select name="role">${ROLES.map((r) => html`<option value=${r} selected=${r === "member"}>${r}</option>`)}</select></label>
      <button>Invite</button></form>` : null}
    ${link ? html`<p class="secret">Send this single-use link (valid 7 days, shown once): <code>${link}</code></p>` : null}
  </section>`;
}

function Deploys({ project }) {
  const { data, error } = useLoad(() => gql(DEPLOYS), [project.slug]);
  const deploys = data?.deploys || [];
  return html`<section aria-labelledby="deploys-title"><h2 id="deploys-title">Deploys of beacon.yml</h2>
    <${ErrorNote} error=${error} />
    ${data && !deploys.length ? html`<p>No deploy yet: <code>beacon deploy</code> sends the project's
      <code>beacon.yml</code>.</p>` : null}
    <ol class="timeline">${deploys.map((d) => html`<li><b>v${d.version}</b> by ${d.author.name}
      · <time datetime=${d.deployedAt}>${when(d.deployedAt)}</time>
      ${d.rolledBackFrom ? ` · rollback to v${d.rolledBackFrom}` : ""}
      <details><summary>What changed</summary><pre>${JSON.stringify(d.diff, null, 2)}</pre></details></li>`)}</ol>
  </section>`;
}

/** A one-time code for `beacon login` (valid 10 minutes, shown once). */
function CommandLine() {
  const [code, setCode] = useState(null);
  const [problem, setProblem] = useState(null);
  const issue = async () => {
    try { setCode(await rest("POST", "/api/cli/tokens", {})); setProblem(null); } catch (e) { setProblem(e); }
  };
  return html`<section aria-labelledby="cli-title"><h2 id="cli-title">Command line</h2>
    <p>Run <code>beacon login --url ${location.origin}</code> and give it a code from here.</p>
    <button onClick=${issue}>Get a sign-in code</button>
    <${ErrorNote} error=${problem} />
    ${code ? html`<p class="secret" data-testid="cli-code">Code (valid until ${when(code.expires_at)}, works once):
      <code>${code.token}</code></p>` : null}
  </section>`;
}

export function Settings({ project }) {
  const admin = project.role === "admin" || project.role === "owner";
  return html`<section aria-labelledby="settings-title"><h1 id="settings-title">Settings</h1>
    <${Members} project=${project} />
    ${admin ? html`<${ApiKeys} project=${project} />` : null}
    <${CommandLine} />
    ${admin ? html`<${Deploys} project=${project} />` : null}
    ${project.role === "owner" ? html`<${DeleteProject} project=${project} />` : null}
  </section>`;
}
