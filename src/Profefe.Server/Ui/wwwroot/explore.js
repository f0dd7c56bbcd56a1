// @ts-check
// Explore: services over time, a timeline, the newest profiles of the range, links to merge and compare.
import { api } from './api.js';
import { el, main, setStatus, valueOf } from './dom.js';
import { formatLabels, formatTime, formatValue, labelList, parseLabels, withSeconds } from './format.js';
import { PRESETS, hourUpTo, olderThan, previousPeriodParams, queryParams, rangeOf, seriesStep } from './range.js';
import { link } from './route.js';
import { renderSeries, renderTimeline } from './timeline.js';

const TYPES = ['cpu', 'heap', 'block', 'mutex', 'goroutine', 'threadcreate', 'other'];
const LIST_PAGE = 100;

/**
 * @param {URLSearchParams} params
 * @param {() => boolean} current false once the user went on to another view
 */
export async function renderExplore(params, current) {
  /** @type {string[]} */
  const services = (await api('/api/ui/services', new URLSearchParams())) || [];
  if (!current()) { return; }
  if (!params.get('service') && !params.get('range') && !params.get('from') && services.length) {
    // The start page: the hour up to the newest profile of the service that sent it, not an empty last hour.
    /** @type {import('./api.js').LatestBody | null} */
    const latest = await api('/api/ui/latest', new URLSearchParams());
    if (!current()) { return; }
    if (latest) {
      params.set('service', latest.service);
      if (TYPES.includes(latest.type)) { params.set('type', latest.type); }
      const at = Date.parse(latest.created_at);
      if (at < Date.now() - 3600e3) {
        const hour = hourUpTo(at);
        params.set('from', formatTime(hour.from));
        params.set('to', formatTime(hour.to));
      }
    }
  }
  if (!params.get('service') && services.length) { params.set('service', services[0]); }
  if (!params.get('type')) { params.set('type', 'cpu'); }
  if (!params.get('range') && !params.get('from')) { params.set('range', '1h'); }
  const service = params.get('service') || '';
  const range = rangeOf(params);
  /** @param {Record<string, string | null>} changes */
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) { if (v === null || v === '') { next.delete(k); } else { next.set(k, v); } }
    location.hash = link('explore', next);
  };

  const serviceSelect = el('select', { id: 'service', onchange: (/** @type {Event} */ e) => go({ service: valueOf(e), labels: null }) },
    services.map((s) => el('option', { value: s, selected: s === service, text: s })));
  if (!services.length) { serviceSelect.append(el('option', { value: '', text: 'no services yet' })); }
  const typeSelect = el('select', { id: 'type', onchange: (/** @type {Event} */ e) => go({ type: valueOf(e) }) },
    TYPES.map((t) => el('option', { value: t, selected: t === params.get('type'), text: t })));
  const presets = PRESETS.map(([key, label]) => el('button', { type: 'button', 'aria-pressed': String(params.get('range') === key), onclick: () => go({ range: key, from: null, to: null }), text: label }));
  const fromInput = el('input', { id: 'from', type: 'datetime-local', step: '1', value: formatTime(range.from) });
  const toInput = el('input', { id: 'to', type: 'datetime-local', step: '1', value: formatTime(range.to) });
  const apply = el('button', { type: 'button', class: 'primary', text: 'Apply range', onclick: () => go({ range: null, from: withSeconds(fromInput.value), to: withSeconds(toInput.value) }) });

  const labels = parseLabels(params.get('labels'));
  /** @type {import('./api.js').LabelsBody} */
  const known = (await api('/api/0/labels', new URLSearchParams({ service }))) || [];
  if (!current()) { return; }
  const keySelect = el('select', { 'aria-label': 'Label key' }, el('option', { value: '', text: 'label…' }), known.map((l) => el('option', { value: l.key, text: l.key })));
  const valueSelect = el('select', { 'aria-label': 'Label value' });
  keySelect.addEventListener('change', () => {
    const entry = known.find((l) => l.key === keySelect.value);
    valueSelect.replaceChildren(...(entry ? entry.values : []).map((v) => el('option', { value: v, text: v === '' ? '(empty)' : v })));
  });
  const addLabel = el('button', { type: 'button', text: 'Add filter', onclick: () => {
    if (keySelect.value) { go({ labels: formatLabels([...labels, [keySelect.value, valueSelect.value]]) }); }
  } });
  const chips = el('div', { class: 'chips' }, labels.map(([k, v], i) => el('span', { class: 'chip' }, `${k}=${v}`,
    el('button', { type: 'button', 'aria-label': `Remove filter ${k}=${v}`, text: '×', onclick: () => go({ labels: formatLabels(labels.filter((_, j) => j !== i)) || null }) }))));

  const q = queryParams(params, range);
  const mergedLink = el('a', { class: 'button primary', id: 'open-merged', href: link('profile', q), text: 'Open merged profile' });
  const compareLink = el('a', { class: 'button', id: 'compare-previous', href: link('compare', previousPeriodParams(params, range)), text: 'Compare with the previous period' });

  const timelineBox = el('section', { 'aria-label': 'Timeline' });
  const listBox = el('section', { 'aria-label': 'Profiles' });
  main.replaceChildren(
    el('h1', { text: 'Explore' }),
    el('fieldset', {}, el('legend', { text: 'Query' }),
      el('div', { class: 'row' }, el('label', {}, 'Service', serviceSelect), el('label', {}, 'Type', typeSelect), ...presets),
      el('div', { class: 'row' }, el('label', {}, 'From (UTC)', fromInput), el('label', {}, 'To (UTC)', toInput), apply),
      el('div', { class: 'row' }, el('label', {}, 'Label', keySelect), el('label', {}, 'Value', valueSelect), addLabel, chips)),
    el('div', { class: 'toolbar' }, mergedLink, compareLink),
    timelineBox, listBox);

  if (!service) { listBox.append(el('p', { class: 'muted', text: 'No profiles have been collected yet.' })); return; }
  setStatus('Loading timeline…');
  // The chart is the engine's time series (totals per step, one line per value of "group by"); the list shows
  // the newest profiles of the range a page at a time, so a week of a fleet costs a few kilobytes either way.
  const seriesQuery = new URLSearchParams(q);
  const step = seriesStep(range.to - range.from);
  seriesQuery.set('step', String(step));
  const groupBy = params.get('group_by');
  if (groupBy) { seriesQuery.set('group_by', groupBy); }
  const listQuery = new URLSearchParams(q);
  listQuery.set('limit', String(LIST_PAGE));
  const before = params.get('before');
  if (before) { listQuery.set('to', before); }
  const started = performance.now();
  /** @type {[import('./api.js').SeriesBody | null, import('./api.js').TimelineBody | null]} */
  const [series, timeline] = await Promise.all([api('/api/0/timeseries', seriesQuery).catch(() => null), api('/api/ui/timeline', listQuery)]);
  if (!current()) { return; }
  setStatus('');
  const groupSelect = el('select', { id: 'group-by', 'aria-label': 'Group by', onchange: (/** @type {Event} */ e) => go({ group_by: valueOf(e) || null }) },
    el('option', { value: '', text: 'no grouping' }), known.map((l) => el('option', { value: l.key, selected: l.key === params.get('group_by'), text: l.key })));
  /** @param {number} from @param {number} to */
  const onBrush = (from, to) => go({ range: null, from: formatTime(from), to: formatTime(to), before: null });
  if (series) {
    renderSeries(timelineBox, series, range, step, groupSelect, onBrush);
  } else {
    renderTimeline(timelineBox, timeline, range, onBrush);
  }
  timelineBox.setAttribute('data-drawn-ms', String(Math.round(performance.now() - started)));
  renderProfileList(listBox, timeline);
  const points = timeline ? timeline.points : [];
  if (points.length === LIST_PAGE) {
    listBox.append(el('div', { class: 'toolbar' }, el('a', { class: 'button', id: 'older', href: link('explore', new URLSearchParams({ ...Object.fromEntries(params), before: olderThan(points[0].created_at) })), text: 'Older profiles' })));
  }
}

/**
 * The newest profiles of the range, newest first, to open or compare.
 * @param {HTMLElement} box
 * @param {import('./api.js').TimelineBody | null} timeline
 */
function renderProfileList(box, timeline) {
  const points = timeline ? timeline.points : [];
  if (!timeline || !points.length) { box.replaceChildren(el('p', { class: 'muted', id: 'no-profiles', text: 'No profiles in this range.' })); return; }
  const unit = timeline.unit;
  /** @type {HTMLInputElement[]} */
  const checks = [];
  const openSelected = el('button', { type: 'button', text: 'Open selected', disabled: true });
  const compareSelected = el('button', { type: 'button', text: 'Compare selected (older is base)', disabled: true });
  // Oldest first (the rows are newest first), so a comparison runs forward in time whatever order they were ticked in.
  const selectedIds = () => checks.filter((c) => c.checked).map((c) => c.value).reverse();
  const update = () => {
    const n = selectedIds().length;
    openSelected.disabled = n === 0;
    compareSelected.disabled = n !== 2;
  };
  openSelected.addEventListener('click', () => { location.hash = link('profile', new URLSearchParams({ id: selectedIds().join('+') })); });
  compareSelected.addEventListener('click', () => {
    const [a, b] = selectedIds();
    location.hash = link('compare', new URLSearchParams({ base_id: a, new_id: b }));
  });
  const rows = points.slice().reverse().map((p) => {
    const check = el('input', { type: 'checkbox', value: p.id, 'aria-label': `Select profile ${p.id}`, onchange: update });
    checks.push(check);
    return el('tr', {},
      el('td', {}, check),
      el('td', { text: p.created_at.replace('.000Z', 'Z') }),
      el('td', {}, el('a', { href: link('profile', new URLSearchParams({ id: p.id })), text: p.id })),
      el('td', { text: p.type }),
      el('td', { text: labelList(p.labels) }),
      el('td', { class: 'num', text: p.total === null ? '–' : formatValue(p.total, unit) }));
  });
  box.replaceChildren(el('h2', { text: 'Profiles' }),
    el('div', { class: 'toolbar' }, openSelected, compareSelected),
    el('div', { class: 'scroll' }, el('table', { id: 'profiles' },
      el('thead', {}, el('tr', {}, ['', 'Created (UTC)', 'Id', 'Type', 'Labels', 'Total'].map((h, i) => el('th', { scope: 'col', class: i === 5 ? 'num' : '', text: h })))),
      el('tbody', {}, rows))));
}

