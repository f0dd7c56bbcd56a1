// @ts-check
// Time-range math: presets, explicit ranges, the query a range asks the server, the chart's step, brushing.
import { formatTime, parseTime } from './format.js';

/** @type {[string, string, number][]} key, label, length in ms */
export const PRESETS = [['15m', 'Last 15 min', 15 * 60e3], ['1h', 'Last 1 h', 3600e3], ['24h', 'Last 24 h', 24 * 3600e3], ['7d', 'Last 7 d', 7 * 24 * 3600e3]];

/** @typedef {{ from: number, to: number }} Range times in ms */

/**
 * The time range a view's params ask for: a preset relative to now, or explicit from/to, else the last hour.
 * @param {URLSearchParams} params
 * @param {string} [prefix]
 * @param {number} [now] ms
 * @returns {Range}
 */
export function rangeOf(params, prefix = '', now = Date.now()) {
  const to = Math.ceil(now / 1000) * 1000;
  const preset = PRESETS.find((p) => p[0] === params.get(prefix + 'range'));
  if (preset) { return { from: to - preset[2], to }; }
  const from = parseTime(params.get(prefix + 'from'));
  const explicitTo = parseTime(params.get(prefix + 'to'));
  if (!isNaN(from) && !isNaN(explicitTo)) { return { from, to: explicitTo }; }
  return { from: to - 3600e3, to };
}

/**
 * The server query for a service, type and labels over a range.
 * @param {URLSearchParams} params
 * @param {Range} range
 */
export function queryParams(params, range) {
  const q = new URLSearchParams();
  q.set('service', params.get('service') || '');
  q.set('type', params.get('type') || 'cpu');
  const labels = params.get('labels');
  if (labels) { q.set('labels', labels); }
  q.set('from', formatTime(range.from));
  q.set('to', formatTime(range.to));
  return q;
}

/**
 * The server query for one side of a view: its ids ("a+b", "a,b" or "a b"), else the query and its range.
 * @param {URLSearchParams} params
 * @param {string} [prefix] "base_" or "new_" for a side of a comparison
 */
export function sourceParams(params, prefix = '') {
  const q = new URLSearchParams();
  const ids = params.get(prefix + 'id');
  if (ids) {
    for (const id of ids.split(/[+, ]/).filter(Boolean)) { q.append(prefix + 'id', id); }
    return q;
  }
  for (const key of ['service', 'type', 'labels']) {
    const value = params.get(key);
    if (value) { q.set(key, value); }
  }
  q.set(prefix + 'from', params.get(prefix + 'from') || '');
  q.set(prefix + 'to', params.get(prefix + 'to') || '');
  return q;
}

/**
 * The server query of a comparison: both sides' ids, else the query with both sides' ranges.
 * @param {URLSearchParams} params
 */
export function compareQuery(params) {
  if (params.get('base_id') || params.get('new_id')) {
    return new URLSearchParams([...sourceParams(params, 'base_'), ...sourceParams(params, 'new_')]);
  }
  const q = new URLSearchParams();
  for (const key of ['service', 'type', 'labels', 'base_from', 'base_to', 'new_from', 'new_to']) {
    const value = params.get(key);
    if (value) { q.set(key, value); }
  }
  return q;
}

/**
 * One side of a comparison as a query of its own (its prefix dropped), to fetch that side's profile or graph.
 * @param {URLSearchParams} params
 * @param {string} prefix "base_" or "new_"
 */
export function sideQuery(params, prefix) {
  const q = new URLSearchParams();
  for (const [key, value] of sourceParams(params, prefix)) { q.append(key.startsWith(prefix) ? key.slice(prefix.length) : key, value); }
  return q;
}

/**
 * The comparison of a range with the one just before it, as long as it: "compare with the previous period".
 * @param {URLSearchParams} params service, type, labels
 * @param {Range} range
 */
export function previousPeriodParams(params, range) {
  const length = range.to - range.from;
  const q = new URLSearchParams({ service: params.get('service') || '', type: params.get('type') || 'cpu' });
  const labels = params.get('labels');
  if (labels) { q.set('labels', labels); }
  q.set('base_from', formatTime(range.from - length));
  q.set('base_to', formatTime(range.from));
  q.set('new_from', formatTime(range.from));
  q.set('new_to', formatTime(range.to));
  return q;
}

/**
 * The "before" of the next page of a newest-first list whose oldest profile was created at createdAt: a second
 * earlier, in profefe's layout.
 * @param {string} createdAt e.g. 2024-05-01T10:00:00.123Z
 */
export function olderThan(createdAt) {
  const older = createdAt.replace(/\.\d+Z$/, '').replace('Z', '');
  return formatTime(Date.parse(older + 'Z') - 1000);
}

/**
 * The hour up to a profile created at ms (to the next whole second): where the start page opens.
 * @param {number} at
 * @returns {Range}
 */
export function hourUpTo(at) {
  const to = Math.floor(at / 1000) * 1000 + 1000;
  return { from: to - 3600e3, to };
}

export const SERIES_POINTS = 240;
const NICE_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/**
 * The smallest round step (seconds) that keeps the chart within SERIES_POINTS points.
 * @param {number} spanMs
 */
export function seriesStep(spanMs) {
  const seconds = Math.max(1, spanMs / 1000);
  return NICE_STEPS.find((s) => seconds / s <= SERIES_POINTS) || Math.ceil(seconds / SERIES_POINTS / 86400) * 86400;
}

/**
 * The time range a drag from x a to x b (a <= b) across a chart width wide selects: whole seconds, widened outwards.
 * @param {number} a
 * @param {number} b
 * @param {number} width
 * @param {Range} range
 * @returns {Range}
 */
export function brushRange(a, b, width, range) {
  const span = range.to - range.from || 1;
  return { from: Math.floor((range.from + a / width * span) / 1000) * 1000, to: Math.ceil((range.from + b / width * span) / 1000) * 1000 };
}
