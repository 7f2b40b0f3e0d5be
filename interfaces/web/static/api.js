// The dashboard's only ways to the server: GraphQL to read, the documented REST endpoints to write.
import { html } from "./ui.js";

const CSRF_COOKIE = "beacon_csrf";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let project = null;
let lastWrite = null;  // X-Beacon-Position of this page's latest write, for read-your-writes

/** Where this page's latest write landed: a read that sends it waits for the read models. */
export function lastWritePosition() { return lastWrite; }

/** Every request from now on acts in this project (its slug). */
export function useProject(slug) { project = slug; }

function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${CSRF_COOKIE}=`));
  return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length + 1)) : "";
}

function headers(extra = {}) {
  const h = { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), ...extra };
  if (project) h["X-Beacon-Project"] = project;
  return h;
}

async function failure(response) {
  let code = "http_" + response.status, message = response.statusText;
  try {
    const body = await response.json();
    if (body.error) ({ code, message } = body.error);
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(response.status, code, message);
}

/** Headers for the live stream (no body, so no Content-Type). */
export function streamHeaders() {
  const h = { Accept: "text/event-stream" };
  if (project) h["X-Beacon-Project"] = project;
  return h;
}

/** A REST call; answers the `data` of the envelope (or the whole body when there is none). */
export async function rest(method, path, body, extraHeaders = {}) {
  const response = await fetch(path, {
    method, credentials: "same-origin", headers: headers(extraHeaders),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  lastWrite = response.headers.get("X-Beacon-Position") || lastWrite;
  if (response.status === 204) return null;
  const parsed = await response.json();
  return parsed && typeof parsed === "object" && "data" in parsed && !Array.isArray(parsed)
    ? parsed.data : parsed;
}

/** A GraphQL query (after `minPosition`, a write's position, when given); throws the first
 * error so a page can show it. */
export async function gql(query, variables = {}, minPosition = null) {
  const response = await fetch("/graphql", {
    method: "POST", credentials: "same-origin",
    headers: headers(minPosition ? { "X-Beacon-Min-Position": minPosition } : {}),
    body: JSON.stringify({ query, variables }),
  });
  if (!response.ok && response.status !== 200) throw await failure(response);
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(response.status, first.extensions?.code || "graphql", first.message);
  }
  return body.data;
}

/** A small panel saying what went wrong, in words. */
export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message || String(error)}</p>`;
}
