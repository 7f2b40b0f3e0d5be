// Live events: the stream of accepted events and exception reports, filterable and pausable.
// Pausing closes the stream; resuming reopens it from the last id seen (Last-Event-ID), so
// nothing is missed or shown twice.
import { useEffect, useRef, useState } from "preact/hooks";
import { streamHeaders } from "../api.js";
import { html, when, useQueryState } from "../ui.js";

const KEEP = 200;

function frames(buffer) {
  const parts = buffer.split("\n\n");
  return { complete: parts.slice(0, -1), rest: parts[parts.length - 1] };
}

function parse(frame) {
  const out = {};
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) continue;
    const at = line.indexOf(":");
    const key = at < 0 ? line : line.slice(0, at), value = at < 0 ? "" : line.slice(at + 1).trimStart();
    out[key] = out[key] ? `${out[key]}\n${value}` : value;
  }
  return out;
}

/** Where and on what it was sent from, as the enrichment pipeline derived it. */
function where(m) {
  const place = [m.$city, m.$region, m.$country].filter(Boolean).join(", ");
  const device = [m.$browser, m.$os, m.$device_type].filter(Boolean).join(" · ");
  return [place, device].filter(Boolean).join(" — ");
}

export function Live({ project }) {
  const [q, setQ] = useQueryState({ event: "", actor: "", prop: "" });
  const [paused, setPaused] = useState(false);
  const [messages, setMessages] = useState([]);
  const [status, setStatus] = useState("connecting");
  const [attempt, setAttempt] = useState(0);  // a closed stream reopens from the last id seen
  const last = useRef(null);
  useEffect(() => {
    if (paused) { setStatus("paused"); return undefined; }
    const stop = new AbortController();
    const params = new URLSearchParams();
    if (q.event) params.set("event", q.event);
    if (q.actor) params.set("actor_id", q.actor);
    const [key, value] = q.prop.split("=");
    if (key && value !== undefined) params.set(`property.${key}`, value);
    const headers = streamHeaders();
    if (last.current) headers["Last-Event-ID"] = last.current;
    (async () => {
      try {
        const response = await fetch(`/api/v1/events/stream?${params}`, {
          credentials: "same-origin", headers, signal: stop.signal });
        if (response.status === 429) {  // the workspace holds as many streams as it may
          const wait = Number(response.headers.get("Retry-After")) || 5;
          setStatus(`too many open streams in this project: retrying in ${wait} s`);
          setTimeout(() => setAttempt((n) => n + 1), wait * 1000);
          return;
        }
        if (!response.ok) { setStatus(`refused (${response.status})`); return; }
        setStatus("live");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value: chunk, done } = await reader.read();
          if (done) break;
          const { complete, rest } = frames(buffer + chunk);
          buffer = rest;
          const fresh = [];
          for (const frame of complete) {
            const m = parse(frame);
            if (m.event === "overflow" || m.event === "revoked") {
              setStatus(m.event === "overflow" ? "fell behind: reconnecting" : "signed out");
              continue;
            }
            if (!m.data || !m.id) continue;
            last.current = m.id;
            fresh.push({ id: m.id, kind: m.event, ...JSON.parse(m.data) });
          }
          if (fresh.length) setMessages((old) => [...fresh.reverse(), ...old].slice(0, KEEP));
        }
        setStatus("reconnecting");
        setTimeout(() => setAttempt((n) => n + 1), 1000);
      } catch (err) { if (err.name !== "AbortError") setStatus(`disconnected: ${err.message}`); }
    })();
    return () => stop.abort();
  }, [project.slug, paused, attempt, q.event, q.actor, q.prop]);
  return html`<section aria-labelledby="live-title"><h1 id="live-title">Live events</h1>
    <form class="toolbar" onSubmit=${(e) => e.preventDefault()}>
      <label class="field">Event <input value=${q.event} onChange=${(e) => setQ({ event: e.target.value })} /></label>
      <label class="field">Actor <input value=${q.actor} onChange=${(e) => setQ({ actor: e.target.value })} /></label>
      <label class="field">Property (key=value) <input value=${q.prop} onChange=${(e) => setQ({ prop: e.target.value })} /></label>
      <button type="button" onClick=${() => setPaused(!paused)}>${paused ? "Resume" : "Pause"}</button>
      <span class="sub" role="status" data-testid="stream-status">${status}</span>
    </form>
    ${messages.length ? null : html`<p class="sub">Waiting for events… (send one to <code>POST /v1/events</code>)</p>`}
    <ol class="timeline" aria-live="polite" data-testid="live-events">${messages.map((m) => html`<li key=${m.id}>
      <time datetime=${m.timestamp || m.occurred_at}>${when(m.timestamp || m.occurred_at)}</time>${" "}
      ${m.kind === "exception" ? html`<span class="badge down">exception</span> <b>${m.exception_type}</b> ${m.message}`
        : html`<b>${m.name}</b>`} ${m.actor_id ? html`<small title=${m.visitor_id
          ? "a cookieless visitor id" : "the actor"}>${m.actor_id}</small>` : null}
      ${where(m) ? html` <small class="sub" data-testid="enriched">${where(m)}</small>` : null}
      ${m.properties ? html`<code class="props">${JSON.stringify(m.properties)}</code>` : null}</li>`)}</ol>
  </section>`;
}
