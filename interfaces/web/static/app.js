// The dashboard's shell: who is signed in, which project, which page; pages live in pages/.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, ErrorNote, gql, rest, useProject } from "./api.js";
import { fmt, html, when } from "./ui.js";
import { Overview } from "./pages/overview.js";
import { Insights } from "./pages/insights.js";
import { Live } from "./pages/live.js";
import { Sessions } from "./pages/sessions.js";
import { Exceptions } from "./pages/exceptions.js";
import { Incidents } from "./pages/incidents.js";
import { Monitors } from "./pages/monitors.js";
import { Alerts } from "./pages/alerts.js";
import { Settings } from "./pages/settings.js";

const PAGES = [
  ["overview", "Overview", Overview], ["insights", "Insights", Insights], ["live", "Live events", Live],
  ["sessions", "Sessions", Sessions], ["exceptions", "Exceptions", Exceptions],
  ["incidents", "Incidents", Incidents], ["monitors", "Monitors", Monitors], ["alerts", "Alerts", Alerts],
  ["settings", "Settings", Settings],
];

/** Move within the app without a reload. */
export function navigate(path) {
  history.pushState(null, "", path);
  dispatchEvent(new PopStateEvent("popstate"));
}

function usePath() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const moved = () => setPath(location.pathname);
    addEventListener("popstate", moved);
    return () => removeEventListener("popstate", moved);
  }, []);
  return path;
}

function Login({ onSignedIn }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      await rest("POST", "/api/auth/login", { email: form.get("email"), password: form.get("password") });
      onSignedIn();
    } catch (err) { setError(err); }
  };
  return html`<main class="login"><form onSubmit=${submit} aria-labelledby="login-title">
    <h1 id="login-title">Sign in to Beacon</h1>
    <label class="field">Email <input name="email" type="email" autocomplete="username" required /></label>
    <label class="field">Password <input name="password" type="password" autocomplete="current-password" required /></label>
    <button type="submit">Sign in</button>
    <${ErrorNote} error=${error} />
    <p class="hint">On a first start, <code>make run</code> prints the demo user's login.</p>
  </form></main>`;
}

/** Accepting an invitation: set a password (or give the existing one), then sign in. */
function Join({ onSignedIn }) {
  const token = new URLSearchParams(location.search).get("token") || "";
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      const joined = await rest("POST", "/api/invitations/accept",
                                { token, name: form.get("name"), password: form.get("password") });
      await rest("POST", "/api/auth/login", { email: joined.user.email, password: form.get("password") });
      history.replaceState(null, "", `/app/${joined.project.slug}/overview`);
      onSignedIn();
    } catch (err) { setError(err); }
  };
  return html`<main class="login"><form onSubmit=${submit} aria-labelledby="join-title">
    <h1 id="join-title">Join a Beacon project</h1>
    <label class="field">Your name <input name="name" autocomplete="name" /></label>
    <label class="field">Password <input name="password" type="password" autocomplete="new-password" required minlength="10" /></label>
    <p class="hint">If you already have a Beacon account with this email, give its password.</p>
    <button type="submit">Join</button>
    <${ErrorNote} error=${error} />
  </form></main>`;
}

const READ_MODELS = "{ readModels { name lag failingSince } }";
const CATCHING_UP = 10000;  // log entries a read model is behind before the note says so (as /readyz)

/** A note, looked for every 30 s, when what the pages show may be out of date: a read model that
 * Beacon cannot update (its operator sees why), or one far behind its log. */
function Behind() {
  const [models, setModels] = useState([]);
  useEffect(() => {
    let live = true;
    const look = () => gql(READ_MODELS).then((d) => live && setModels(d.readModels), () => {});
    look();
    const timer = setInterval(look, 30000);
    return () => { live = false; clearInterval(timer); };
  }, []);
  const names = (list) => list.map((m) => m.name).join(", ");
  const failing = models.filter((m) => m.failingSince);
  if (failing.length) {
    const since = failing.map((m) => m.failingSince).sort()[0];
    const text = `Some of what this dashboard shows may be out of date: Beacon has not been able to `
      + `update ${names(failing)} since ${when(since)}. Whoever runs Beacon can see why with `;
    return html`<p class="notice" role="status" data-testid="behind">${text}<code>beacon projections status</code>.</p>`;
  }
  const behind = models.filter((m) => m.lag >= CATCHING_UP);
  if (!behind.length) return null;
  const most = fmt(Math.max(...behind.map((m) => m.lag)));
  return html`<p class="notice" role="status" data-testid="behind">${`Beacon is catching up: `
    + `${names(behind)} ${behind.length === 1 ? "is" : "are"} up to ${most} entries behind its log `
    + "(a batch of tracked events is one), so the latest may not show yet."}</p>`;
}

function Shell({ me, slug, page, rest: restOfPath, onSignOut }) {
  const [open, setOpen] = useState(false);
  const projects = me.projects || [];
  const current = projects.find((p) => p.slug === slug);
  if (!current) return html`<main class="content"><h1>Project not found</h1>
    <p>You are not a member of <code>${slug}</code>.</p></main>`;
  useProject(current.slug);
  const [, , Page] = PAGES.find(([key]) => key === page) || PAGES[0];
  const go = (e, path) => { e.preventDefault(); navigate(path); };
  return html`<div class="shell">
    <header class="topbar">
      <button class="menu" aria-expanded=${open} aria-controls="nav" onClick=${() => setOpen(!open)}>Menu</button>
      <a class="brand" href="/app" onClick=${(e) => go(e, "/app")}>Beacon</a>
      <label class="field project-switcher">Project
        <select aria-label="Project" value=${current.slug}
          onChange=${(e) => navigate(`/app/${e.target.value}/${page}`)}>
          ${projects.map((p) => html`<option value=${p.slug} selected=${p.slug === current.slug}>${p.name}</option>`)}
        </select></label>
      <span class="who">${me.user.email} · ${current.role}</span>
      <button class="link" onClick=${onSignOut}>Sign out</button>
    </header>
    <nav id="nav" class=${open ? "open" : ""} aria-label="Pages">
      ${PAGES.map(([key, label]) => html`<a href=${`/app/${current.slug}/${key}`}
        aria-current=${key === page ? "page" : undefined}
        onClick=${(e) => { setOpen(false); go(e, `/app/${current.slug}/${key}`); }}>${label}</a>`)}
    </nav>
    <main class="content" id="main"><${Behind} /><${Page} project=${current} path=${restOfPath} navigate=${navigate} /></main>
  </div>`;
}

function App() {
  const path = usePath();
  const [me, setMe] = useState(undefined);
  const [error, setError] = useState(null);
  const loadMe = () => rest("GET", "/api/auth/me").then(setMe, (err) => {
    if (err instanceof ApiError && err.status === 401) setMe(null); else setError(err);
  });
  useEffect(() => { loadMe(); }, []);
  if (error) return html`<main class="content"><${ErrorNote} error=${error} /></main>`;
  if (path === "/app/join") return html`<${Join} onSignedIn=${() => { dispatchEvent(new PopStateEvent("popstate")); loadMe(); }} />`;
  if (me === undefined) return html`<p class="loading">Loading…</p>`;
  if (me === null) return html`<${Login} onSignedIn=${loadMe} />`;
  const [, , slug, page = "overview", ...restOfPath] = path.split("/");
  if (!slug) {
    const first = (me.projects || [])[0];
    if (!first) return html`<main class="content"><h1>No project yet</h1>
      <p>Create one with <code>beacon projects create</code> or <code>POST /api/projects</code>.</p></main>`;
    queueMicrotask(() => navigate(`/app/${first.slug}/overview`));
    return html`<p class="loading">Loading…</p>`;
  }
  const signOut = async () => { await rest("POST", "/api/auth/logout", {}); setMe(null); navigate("/app"); };
  return html`<${Shell} me=${me} slug=${slug} page=${page} rest=${restOfPath} onSignOut=${signOut} />`;
}

render(html`<${App} />`, document.getElementById("app"));
