// The alert rule form: what to watch (an event's count or unique actors with property filters,
// exception groups, a monitor), its webhooks (kept ones by id: they keep their secret), the
// cooldown, and a preview on the last hours of stored history before anything is saved.
import { useState } from "preact/hooks";
import { ErrorNote, rest } from "../api.js";
import { Select, html, when } from "../ui.js";

const KINDS = [["threshold", "An event's count"], ["exception_group", "Exception groups"],
               ["monitor", "A heartbeat monitor"]];
const METRICS = [["count", "events"], ["unique_actors", "unique actors"]];
const OPS = [[">", "more than"], [">=", "at least"], ["<", "fewer than"], ["<=", "at most"]];
const WINDOWS = [["60", "1 minute"], ["300", "5 minutes"], ["900", "15 minutes"],
                 ["3600", "1 hour"], ["21600", "6 hours"], ["86400", "1 day"]];
const TRIGGERS = {
  exception_group: [["new", "a new group appears"], ["regressed", "a quiet group comes back"],
                    ["over", "a group gets more reports than"]],
  monitor: [["down", "it is down"], ["up", "it comes back up"]],
};
// A preview judges every 10 s instant of its range, at most 10,000 of them: about a day.
const PREVIEW_HOURS = [["1", "the last hour"], ["6", "the last 6 hours"], ["24", "the last 24 hours"]];
const BLANK = { name: "", type: "threshold", event: "", metric: "count", op: ">", value: "10",
                window: "300", filters: "", trigger: "new", monitor: "", channels: [{ url: "" }],
                cooldown: "300", description: "" };
const MAX_CHANNELS = 10;

export const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// A property filter as one line of the form: key=value, key!=value, key~value (contains),
// key>value, key<value, key (is set), !key (is not set): every operator the API knows.
const FILTER_SIGNS = [["neq", "!="], ["eq", "="], ["contains", "~"], ["gt", ">"], ["lt", "<"]];
const FILTER_HELP = "Only where (a line each: key=value, key!=value, key~part, key>n, key<n, key, !key)";

function filterLine(f) {
  if (f.op === "is_set") return f.key;
  if (f.op === "is_not_set") return `!${f.key}`;
  return `${f.key}${FILTER_SIGNS.find(([op]) => op === f.op)?.[1] ?? "="}${f.value}`;
}

function filterOf(line) {
  let found = null;  // the first sign in the line ("!=" before the "=" inside it)
  for (const [op, sign] of FILTER_SIGNS) {
    const at = line.indexOf(sign);
    if (at > 0 && (found === null || at < found.at)) found = { op, sign, at };
  }
  if (found) {
    return { key: line.slice(0, found.at).trim(), op: found.op,
             value: line.slice(found.at + found.sign.length).trim() };
  }
  return line.startsWith("!") ? { key: line.slice(1).trim(), op: "is_not_set", value: null }
    : { key: line, op: "is_set", value: null };
}

function windowName(seconds) {
  return WINDOWS.find(([s]) => Number(s) === seconds)?.[1] || `${seconds} s`;
}

export function describe(condition) {
  const window = windowName(condition.window_seconds);
  if (condition.type === "threshold") {
    const op = OPS.find(([o]) => o === condition.op)?.[1] || condition.op;
    const filters = (condition.filters || []).map(filterLine).join(", ");
    return `${condition.metric === "unique_actors" ? "unique actors" : "count"} of ${condition.event}`
      + `${filters ? ` where ${filters}` : ""} over ${window} ${op} ${condition.value}`;
  }
  if (condition.type === "monitor") return `monitor ${condition.trigger}`;
  return `exception group: ${condition.trigger}${condition.trigger === "over"
    ? ` ${condition.value} reports in ${window}` : ""}`;
}

/** The form's fields as the API's condition (the API checks it and says what is wrong), over
 * the rule's own condition when changing one, so what the form does not show is kept. */
function conditionOf(f, kept = {}) {
  const window_seconds = Number(f.window);
  const base = kept.type === f.type ? kept : {};
  if (f.type === "threshold") {
    const filters = f.filters.split("\n").map((s) => s.trim()).filter(Boolean).map(filterOf);
    return { ...base, type: "threshold", event: f.event.trim(), metric: f.metric, op: f.op,
             value: Number(f.value), window_seconds, filters };
  }
  if (f.type === "exception_group") {
    const { value, ...rest } = base;
    return { ...rest, type: "exception_group", trigger: f.trigger, window_seconds,
             ...(f.trigger === "over" ? { value: Number(f.value) } : {}) };
  }
  return { ...base, type: "monitor", trigger: f.trigger, monitor_id: f.monitor, window_seconds };
}

/** A rule's fields as the form shows them, to change it. */
function fieldsOf(alert) {
  const c = alert.condition;
  return { ...BLANK, name: alert.name, description: alert.description || "", type: c.type, event: c.event || "", metric: c.metric || "count",
    op: c.op || ">", value: String(c.value ?? BLANK.value), window: String(c.window_seconds),
    filters: (c.filters || []).map(filterLine).join("\n"),
    trigger: c.trigger || "new", monitor: c.monitor_id || "",
    channels: alert.channels.map(({ id, url }) => ({ id, url })),
    cooldown: String(alert.cooldownSeconds) };
}

/** The form's webhooks as the API's channels: a rule's own (by id, so it keeps its secret and
 * its deliveries; with its URL if that changed) and new ones; none when nothing changed. */
function channelsOf(channels, kept) {
  const same = kept && channels.length === kept.length
    && channels.every((c, i) => c.id === kept[i].id && c.url.trim() === kept[i].url);
  if (same) return undefined;
  return channels.map((c) => {
    if (!c.id) return { type: "webhook", url: c.url.trim() };
    const before = kept.find((k) => k.id === c.id);
    return before.url === c.url.trim() ? { id: c.id } : { id: c.id, url: c.url.trim() };
  });
}

/** The webhooks of a rule in the form: a URL each, removable while more than one, and more added
 * up to the API's ten. A webhook kept keeps its secret; a new one gets its own, shown once. */
function Channels({ channels, onChange }) {
  const several = channels.length > 1;
  const put = (i, url) => onChange(channels.map((c, j) => (j === i ? { ...c, url } : c)));
  return html`<fieldset class="channels wide"><legend>Webhooks</legend>
    ${channels.map((c, i) => html`<div class="channel">
      <label class="field wide">Webhook URL${several ? ` ${i + 1}` : ""}
        <input name=${`url-${i}`} type="url" required value=${c.url}
          onInput=${(e) => put(i, e.target.value)} /></label>
      ${c.id ? null : html`<span class="note">new: its secret is shown once saved</span>`}
      ${several ? html`<button type="button" class="link" aria-label=${`Remove webhook ${i + 1}`}
        onClick=${() => onChange(channels.filter((_, j) => j !== i))}>Remove</button>` : null}
    </div>`)}
    ${channels.length < MAX_CHANNELS ? html`<button type="button" class="link"
      onClick=${() => onChange([...channels, { url: "" }])}>Add a webhook</button>` : null}
  </fieldset>`;
}

function Preview({ result }) {
  if (!result) return null;
  const fired = result.changes.filter((c) => c.state === "firing").length;
  return html`<div class="preview" data-testid="alert-preview" aria-live="polite">
    <p><b>${fired ? `Would have fired ${plural(fired, "time", "times")}` : "Would not have fired"}</b> over ${
      result.label} (no one was told).</p>
    ${result.changes.length ? html`<ol class="timeline">${result.changes.map((c) => html`<li>
      <time datetime=${c.at}>${when(c.at)}</time> <b>${c.state}</b> at ${c.value}</li>`)}</ol>` : null}
  </div>`;
}

export function RuleForm({ monitors, editing, onDone }) {
  const [f, setF] = useState(editing ? fieldsOf(editing) : BLANK);
  const [problem, setProblem] = useState(null);
  const [preview, setPreview] = useState(null);
  const [hours, setHours] = useState("6");
  const [secrets, setSecrets] = useState(null);
  const windows = WINDOWS.some(([w]) => w === f.window) ? WINDOWS : [...WINDOWS, [f.window, windowName(Number(f.window))]];
  const set = (changes) => { setF({ ...f, ...changes }); setPreview(null); };
  const field = (name) => ({ value: f[name], onInput: (e) => set({ [name]: e.target.value }) });
  const kind = (type) => set({ type, trigger: (TRIGGERS[type] || [["new"]])[0][0],
                               monitor: f.monitor || monitors[0]?.id || "" });
  const tryIt = async () => {
    const to = new Date(), from = new Date(to - Number(hours) * 3600000);
    try {
      const answer = await rest("POST", "/api/v1/alerts/preview",
        { condition: conditionOf(f, editing?.condition), from: from.toISOString(), to: to.toISOString() });
      setPreview({ ...answer, label: PREVIEW_HOURS.find(([h]) => h === hours)[1] });
      setProblem(null);
    } catch (err) { setPreview(null); setProblem(err); }
  };
  const save = async (e) => {
    e.preventDefault();
    const body = { name: f.name, condition: conditionOf(f, editing?.condition),
                   cooldown_seconds: Number(f.cooldown) };
    const description = f.description.trim() || null;  // null clears one (a change only)
    if (editing ? description !== (editing.description || null) : description) body.description = description;
    const channels = channelsOf(f.channels, editing?.channels);
    if (channels) body.channels = channels;
    try {
      const saved = editing
        ? await rest("PATCH", `/api/v1/alerts/${editing.id}`, body, { "If-Match": `"${editing.version}"` })
        : await rest("POST", "/api/v1/alerts", body);
      setProblem(null);
      const made = saved.channels.filter((c) => c.secret);  // new webhooks: their secret, once
      if (made.length) setSecrets(made); else onDone();
    } catch (err) { setProblem(err); }
  };
  if (secrets) {
    return html`<div class="note secret" data-testid="channel-secret">
      <p>Saved. Each new webhook is signed with its own secret (<code>X-Beacon-Signature</code>,
        HMAC-SHA256 of the body), shown this once:</p>
      ${secrets.map((c) => html`<p><code>${c.url}</code>: <code>${c.secret}</code></p>`)}
      <button onClick=${onDone}>Done</button></div>`;
  }
  const triggers = TRIGGERS[f.type];
  return html`<form class="rule" onSubmit=${save} aria-label=${editing ? `Change ${editing.name}` : "New alert rule"}>
    <label class="field wide">Name <input name="name" required maxlength="200" ...${field("name")} /></label>
    <${Select} id="rule-kind" label="Watch" value=${f.type} options=${KINDS} onChange=${kind} />
    ${f.type === "threshold" ? html`
      <label class="field">Event <input name="event" required maxlength="200" ...${field("event")} /></label>
      <${Select} id="rule-metric" label="Counting" value=${f.metric} options=${METRICS} onChange=${(metric) => set({ metric })} />
      <${Select} id="rule-op" label="Fires when" value=${f.op} options=${OPS} onChange=${(op) => set({ op })} />
      <label class="field">Value <input name="value" type="number" min="0" step="any" required ...${field("value")} /></label>
      <label class="field wide">${FILTER_HELP}
        <textarea name="filters" rows="2" placeholder="plan=pro" ...${field("filters")}></textarea></label>` : html`
      <${Select} id="rule-trigger" label="Fires when" value=${f.trigger} options=${triggers} onChange=${(trigger) => set({ trigger })} />
      ${f.type === "exception_group" && f.trigger === "over" ? html`<label class="field">Reports
        <input name="value" type="number" min="1" step="1" required ...${field("value")} /></label>` : null}
      ${f.type === "monitor" ? html`<${Select} id="rule-monitor" label="Monitor" value=${f.monitor}
        options=${monitors.map((m) => [m.id, m.name])} onChange=${(monitor) => set({ monitor })} />` : null}`}
    <${Select} id="rule-window" label="Window" value=${f.window} options=${windows} onChange=${(window) => set({ window })} />
    <${Channels} channels=${f.channels} onChange=${(channels) => setF({ ...f, channels })} />
    <label class="field wide">What it means, what to do (sent with its webhooks)
      <textarea name="description" rows="2" maxlength="2000" placeholder="Checkout is failing: see the payments runbook"
        ...${field("description")}></textarea></label>
    <label class="field">Quiet after firing (s) <input name="cooldown" type="number" min="0" max="604800" required ...${field("cooldown")} /></label>
    <div class="actions">
      <${Select} id="rule-preview-range" label="Try it on" value=${hours} options=${PREVIEW_HOURS} onChange=${(h) => { setHours(h); setPreview(null); }} />
      <button type="button" onClick=${tryIt}>Preview</button>
      <button type="submit">${editing ? "Save changes" : "Create rule"}</button>
      ${editing ? html`<button type="button" class="link" onClick=${onDone}>Cancel</button>` : null}
    </div>
    <${ErrorNote} error=${problem} />
    <${Preview} result=${preview} />
  </form>`;
}
