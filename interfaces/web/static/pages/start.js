// What a new project sees: its ingest key and a request to copy.
import { useState } from "preact/hooks";
import { html } from "../ui.js";

export function GettingStarted({ project }) {
  const key = project.ingest_key_hint || "<your ingest key>";
  const curl = `curl -X POST ${location.origin}/v1/events \\
  -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
  -d '[{"event_id": "${crypto.randomUUID()}", "name": "signed_up", "actor_id": "user-1",
       "timestamp": "${new Date().toISOString()}", "properties": {"plan": "pro"}}]'`;
  const [copied, setCopied] = useState(false);
  const copy = async () => { await navigator.clipboard?.writeText(curl); setCopied(true); };
  return html`<div class="empty" data-testid="getting-started">
    <h2>No events yet</h2>
    <p>Send your first event with the project's ingest key (<code>pk_live_…</code>, shown once when the
      project was created; an admin can make another under Settings → Keys):</p>
    <pre><code>${curl}</code></pre>
    <button onClick=${copy}>${copied ? "Copied" : "Copy"}</button>
  </div>`;
}
