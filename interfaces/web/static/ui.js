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

/** ISO range of the last `days` days, ending now (or the previous period of the same length). */
export function rangeOf(days, previous = false) {
  const span = Number(days) * 86400000;
  const to = previous ? Date.now() - span : Date.now();
  return { from: new Date(to - span).toISOString(), to: new Date(to).toISOString() };
}

export function intervalFor(days) {
  const d = Number(days);
  return d <= 2 ? "HOUR" : d <= 90 ? "DAY" : "WEEK";
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
