// Shared building blocks: htm bound to Preact, formatting, and a data-loading hook.
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

const numbers = new Intl.NumberFormat("en");
export const fmt = (n) => (n === null || n === undefined ? "–" : numbers.format(n));
export const pct = (r) => (r === null || r === undefined ? "–" : `${(r * 100).toFixed(1)}%`);
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

/** Run `load` whenever `deps` change; answers {data, error, loading, reload}. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => live && setState({ data, error: null, loading: false }),
                (error) => live && setState({ data: null, error, loading: false }));
    return () => { live = false; };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** The URL's query string as the page's state: shareable, and the back button works. */
export function useQueryState(defaults) {
  const read = () => {
    const params = new URLSearchParams(location.search);
    const out = { ...defaults };
    for (const key of Object.keys(defaults)) if (params.has(key)) out[key] = params.get(key);
    return out;
  };
  const [state, setState] = useState(read);
  useEffect(() => {
    const back = () => setState(read());
    addEventListener("popstate", back);
    return () => removeEventListener("popstate", back);
  }, []);
  const update = (changes) => {
    const next = { ...state, ...changes };
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v !== "" && v !== defaults[k]) params.set(k, v);
    const query = params.toString();
    history.pushState(null, "", location.pathname + (query ? `?${query}` : ""));
    setState(next);
  };
  return [state, update];
}

/**
 * The ISO range a page's state asks for: `from`/`to` dates (UTC, `to` inclusive) when set, else
 * the last `days` days ending now; `previous` is the period of the same length just before.
 */
export function rangeOf(state, previous = false) {
  const s = typeof state === "object" ? state : { days: state };
  let start, end;
  if (s.from && s.to) {
    start = Date.parse(`${s.from}T00:00:00Z`);
    end = Date.parse(`${s.to}T00:00:00Z`) + 86400000;
  } else {
    end = Date.now();
    start = end - Number(s.days || 7) * 86400000;
  }
  const span = end - start;
  if (previous) { end = start; start -= span; }
  return { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

export function intervalFor(state) {
  const { from, to } = rangeOf(state);
  const days = (Date.parse(to) - Date.parse(from)) / 86400000;
  return days <= 2 ? "HOUR" : days <= 90 ? "DAY" : "WEEK";
}

/** The range pickers: a preset, or two dates (kept in the URL as `from` and `to`). */
export function RangePicker({ state, onChange }) {
  const custom = Boolean(state.from && state.to);
  return html`<${Select} id="days" label="Date range" value=${custom ? "custom" : state.days}
      options=${[...RANGES, ["custom", "Custom…"]]}
      onChange=${(days) => onChange(days === "custom"
        ? { from: rangeOf(state).from.slice(0, 10), to: rangeOf(state).to.slice(0, 10) }
        : { days, from: "", to: "" })} />
    ${custom ? html`<label class="field">From <input type="date" value=${state.from}
        onChange=${(e) => onChange({ from: e.target.value })} /></label>
      <label class="field">To <input type="date" value=${state.to}
        onChange=${(e) => onChange({ to: e.target.value })} /></label>` : null}`;
}

export const RANGES = [["1", "Last 24 hours"], ["7", "Last 7 days"], ["30", "Last 30 days"],
                       ["90", "Last 90 days"]];

export function Select({ label, value, options, onChange, id }) {
  return html`<label class="field" for=${id}>${label}
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === value}>${text}</option>`)}
    </select></label>`;
}

export function Empty({ title, children }) {
  return html`<div class="empty"><h3>${title}</h3>${children}</div>`;
}
