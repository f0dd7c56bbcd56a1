// The profefe web UI: Explore (services over time), Profile (flame graph + top table) and Compare (diff).
// Every view's state lives in the URL hash, so a link reloads to the same view.
import { FlameGraph } from './flame.js';

const TYPES = ['cpu', 'heap', 'block', 'mutex', 'goroutine', 'threadcreate', 'other'];
const PRESETS = [['15m', 'Last 15 min', 15 * 60e3], ['1h', 'Last 1 h', 3600e3], ['24h', 'Last 24 h', 24 * 3600e3], ['7d', 'Last 7 d', 7 * 24 * 3600e3]];
const TABLE_ROWS = 300;

const main = document.getElementById('main');
const statusLine = document.getElementById('status');
const tooltip = document.getElementById('tooltip');
let generation = 0;

// ---- small helpers ----

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) { continue; }
    if (key.startsWith('on')) { node.addEventListener(key.slice(2), value); } else if (key === 'text') { node.textContent = value; } else { node.setAttribute(key, value === true ? '' : value); }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) { node.append(child instanceof Node ? child : String(child)); }
  }
  return node;
}

async function api(path, params) {
  const response = await fetch(path + '?' + params.toString());
  let payload = null;
  try { payload = await response.json(); } catch { payload = null; }
  if (!response.ok || !payload || payload.error) {
    if (response.status === 404) { return null; }
    throw new Error(payload && payload.error ? payload.error : `${response.status} ${response.statusText}`);
  }
  return payload.body;
}

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const q = hash.indexOf('?');
  return { page: (q < 0 ? hash : hash.slice(0, q)) || 'explore', params: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)) };
}

function link(page, params) { return '#/' + page + (params && params.toString() ? '?' + params.toString() : ''); }

/** Records in-page state (zoom, search, sort) in the URL without reloading the view. */
function remember(params) {
  const { page } = route();
  history.replaceState(null, '', link(page, params));
}

function setStatus(text) { statusLine.textContent = text; }

function showError(container, error) {
  container.append(el('div', { class: 'error', role: 'alert', text: error.message || String(error) }));
}

function pad(n) { return String(n).padStart(2, '0'); }

/** profefe's time layout, UTC: 2006-01-02T15:04:05. */
function formatTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

function parseTime(text) {
  if (!text) { return NaN; }
  return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : text + 'Z');
}

function formatValue(value, unit) {
  const abs = Math.abs(value);
  const fixed = (v, digits) => (Math.round(v * 10 ** digits) / 10 ** digits).toLocaleString('en-US', { maximumFractionDigits: digits });
  if (unit === 'nanoseconds') {
    if (abs >= 1e9) { return fixed(value / 1e9, 2) + ' s'; }
    if (abs >= 1e6) { return fixed(value / 1e6, 2) + ' ms'; }
    if (abs >= 1e3) { return fixed(value / 1e3, 2) + ' µs'; }
    return value + ' ns';
  }
  if (unit === 'bytes') {
    if (abs >= 1 << 30) { return fixed(value / (1 << 30), 2) + ' GB'; }
    if (abs >= 1 << 20) { return fixed(value / (1 << 20), 2) + ' MB'; }
    if (abs >= 1 << 10) { return fixed(value / (1 << 10), 2) + ' kB'; }
    return value + ' B';
  }
  return value.toLocaleString('en-US') + (unit && unit !== 'count' ? ' ' + unit : '');
}

function percent(value, total) { return total ? (value / total * 100).toFixed(2) + '%' : '–'; }

function signed(text, value) { return value > 0 ? '+' + text : text; }

/** The time range a view's params ask for: a preset relative to now, or explicit from/to. */
function rangeOf(params, prefix = '') {
  const preset = PRESETS.find((p) => p[0] === params.get(prefix + 'range'));
  if (preset) {
    const to = Math.ceil(Date.now() / 1000) * 1000;
    return { from: to - preset[2], to };
  }
  const from = parseTime(params.get(prefix + 'from'));
  const to = parseTime(params.get(prefix + 'to'));
  if (!isNaN(from) && !isNaN(to)) { return { from, to }; }
  const now = Math.ceil(Date.now() / 1000) * 1000;
  return { from: now - 3600e3, to: now };
}

function queryParams(params, range) {
  const q = new URLSearchParams();
  q.set('service', params.get('service') || '');
  q.set('type', params.get('type') || 'cpu');
  if (params.get('labels')) { q.set('labels', params.get('labels')); }
  q.set('from', formatTime(range.from));
  q.set('to', formatTime(range.to));
  return q;
}

function showTooltip(lines, e) {
  if (!lines) { tooltip.hidden = true; return; }
  tooltip.replaceChildren(...lines.map((line, i) => el(i === 0 ? 'strong' : 'div', { text: line })));
  tooltip.hidden = false;
  const x = Math.min(e.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
  const y = e.clientY + 18 + tooltip.offsetHeight > window.innerHeight ? e.clientY - tooltip.offsetHeight - 10 : e.clientY + 18;
  tooltip.style.left = x + 'px';
  tooltip.style.top = y + 'px';
}

function describeNode(node, graph, unit) {
  if (graph.diff) {
    const delta = node.newTotal - node.baseTotal;
    return [node.name, `base ${formatValue(node.baseTotal, unit)} (${percent(node.baseTotal, graph.diff.baseTotal)})`,
      `new ${formatValue(node.newTotal, unit)} (${percent(node.newTotal, graph.diff.baseTotal)})`,
      `change ${signed(formatValue(delta, unit), delta)} (${signed(percent(delta, graph.diff.baseTotal), delta)} of base)`];
  }
  return [node.name, `total ${formatValue(node.total, unit)} (${percent(node.total, graph.total)})`, `self ${formatValue(node.self, unit)} (${percent(node.self, graph.total)})`];
}

// ---- shared pieces: labels, flame graph panel, top table ----

function parseLabels(text) {
  return (text || '').split(',').filter((s) => s.includes('=')).map((s) => {
    const i = s.indexOf('=');
    return [decodeURIComponent(s.slice(0, i)), decodeURIComponent(s.slice(i + 1))];
  });
}

function formatLabels(pairs) { return pairs.map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join(','); }

/**
 * A flame graph with search, reset and a line describing the zoomed and selected frames. With expand, zooming
 * into a frame whose callees the node cap cut fetches that frame's own graph (expand(path) resolves to it).
 */
function flamePanel({ graph, unit, params, title, searchKey = 'search', zoomKey = 'zoom', compact = false, expand = null }) {
  const canvas = el('canvas', { class: 'flame', 'aria-label': `${title}: arrow keys move between frames, Enter zooms, Escape resets` });
  const selectedLine = el('div', { class: 'selected-frame', 'aria-live': 'polite' });
  const crumbs = el('div', { class: 'crumbs' });
  const searchResult = el('span', { class: 'search-result muted', 'aria-live': 'polite' });
  const search = el('input', { type: 'search', placeholder: 'Search frames', 'aria-label': `Search frames in ${title}`, value: params.get(searchKey) || '' });
  const reset = el('button', { type: 'button', text: 'Reset zoom' });
  const expanded = new Set();
  let pendingZoom = null;
  const expandBelow = async (node, path) => {
    const key = node.depth + '.' + node.x;
    // The root's own graph is the one shown: only a frame below it can gain detail.
    if (!expand || node.depth === 0 || !graph.truncated || expanded.has(key) || !flame.hasOtherBelow(node.depth, node.index)) { return; }
    expanded.add(key);
    window.profefeExpanding = (window.profefeExpanding || 0) + 1;
    setStatus('Loading the frames under ' + node.name + '…');
    try {
      const sub = await expand(path.slice(1));
      const focus = flame.focus;
      // Only while the user still looks at that frame: indexes below it change.
      if (sub && focus.depth === node.depth && focus.index === node.index && flame.splice(node.depth, node.index, sub)) {
        if (search.value) { applySearch(); }
        flame.zoomTo(node.depth, node.index);
        if (pendingZoom) {
          const target = pendingZoom;
          pendingZoom = null;
          flame.zoomToOffset(target[0], target[1]);
        }
        window.profefeExpanded = (window.profefeExpanded || 0) + 1;
      } else {
        expanded.delete(key);
      }
      setStatus('');
    } catch (error) {
      expanded.delete(key);
      setStatus('Could not load the frames under ' + node.name + ': ' + (error.message || error));
    } finally {
      window.profefeExpanding--;
    }
  };
  const flame = new FlameGraph(canvas, {
    onHover: (node, e) => showTooltip(node && describeNode(node, graph, unit), e),
    onSelect: (node) => { selectedLine.textContent = describeNode(node, graph, unit).join(' · '); },
    onZoom: (node) => {
      if (expand && node.name === 'other' && node.depth > 0) {
        // "other" sums several callees the cap cut: zoom to their caller, whose graph then comes in full.
        flame.zoomTo(node.depth - 1, flame.parentOf(node.depth, node.index));
        return;
      }
      const path = [];
      for (let d = node.depth, i = node.index; d >= 0; i = flame.parentOf(d, i), d--) { path.unshift(flame.node(d, i).name); }
      const share = graph.diff ? describeNode(node, graph, unit).slice(1).join(', ') : `${formatValue(node.total, unit)} (${percent(node.total, graph.total)})`;
      crumbs.textContent = node.depth === 0 ? 'Click a frame to zoom in.' : `Zoomed: ${path.join(' › ')} — ${share}`;
      crumbs.title = path.join(' › ');
      if (node.depth === 0) { params.delete(zoomKey); } else { params.set(zoomKey, node.depth + '.' + node.x); }
      remember(params);
      expandBelow(node, path);
    },
  });
  const applySearch = () => {
    const text = search.value.trim();
    const found = flame.setSearch(text);
    if (found) {
      searchResult.textContent = `“${text}”: ${found.frames} frames, ${formatValue(found.value, unit)} (${percent(found.value, found.total)} of total)`;
      params.set(searchKey, text);
    } else {
      searchResult.textContent = '';
      params.delete(searchKey);
    }
    remember(params);
  };
  search.addEventListener('input', applySearch);
  reset.addEventListener('click', () => flame.reset());
  const panel = el('section', { class: 'flame-panel', 'aria-label': title },
    el('div', { class: 'toolbar' }, compact ? el('strong', { text: title }) : null, el('label', { class: 'grow' }, 'Search', search), reset),
    searchResult, crumbs, el('div', { class: 'flame-wrap' }, canvas), selectedLine);
  // Drawing needs the canvas in the document to know its width.
  let resolveDrawn;
  const drawn = new Promise((resolve) => { resolveDrawn = resolve; });
  requestAnimationFrame(() => {
    flame.setData(graph);
    const zoom = (params.get(zoomKey) || '').split('.').map(Number);
    if (!(zoom.length === 2 && flame.zoomToOffset(zoom[0], zoom[1]))) {
      // A frame the cap cut: zoom to its nearest drawn caller, whose full graph then brings it back.
      const near = zoom.length === 2 && expand ? flame.covering(zoom[0], zoom[1]) : null;
      if (near && near.depth > 0) {
        pendingZoom = zoom;
        flame.zoomTo(near.depth, near.index);
      } else {
        crumbs.textContent = 'Click a frame to zoom in.';
      }
    }
    if (search.value) { applySearch(); }
    window.profefeRendered = performance.now();
    resolveDrawn();
  });
  return { panel, flame, search, applySearch, drawn };
}

/** Top table: sortable by any column (buttons in the headers), filtered by name; a row click searches the frame. */
function topTable({ top, unit, params, onPick, diff = false }) {
  const columns = diff
    ? [['name', 'Function'], ['baseFlat', 'Base flat'], ['flat', 'New flat'], ['deltaFlat', 'Δ flat'], ['deltaFlatPct', 'Δ flat %'], ['baseCum', 'Base cum'], ['cum', 'New cum'], ['deltaCum', 'Δ cum']]
    : [['flat', 'Flat'], ['flatPct', 'Flat %'], ['cum', 'Cum'], ['cumPct', 'Cum %'], ['name', 'Function']];
  const total = diff ? top.baseTotal : top.total;
  const rows = top.rows.map((r) => ({ name: r[0], file: r[1], flat: r[2], cum: r[3], baseFlat: r[4] || 0, baseCum: r[5] || 0 }));
  for (const r of rows) {
    r.flatPct = r.flat; r.cumPct = r.cum;
    r.deltaFlat = r.flat - r.baseFlat; r.deltaFlatPct = r.deltaFlat; r.deltaCum = r.cum - r.baseCum;
  }
  let sort = params.get('sort') || (diff ? 'deltaFlat' : 'flat');
  let desc = params.get('order') !== 'asc';
  const filter = el('input', { type: 'search', placeholder: 'Filter functions', 'aria-label': 'Filter functions', value: params.get('filter') || '' });
  const tbody = el('tbody');
  const heads = columns.map(([key, label]) => {
    const button = el('button', { type: 'button', text: label, onclick: () => {
      desc = sort === key ? !desc : key !== 'name';
      sort = key;
      params.set('sort', sort);
      params.set('order', desc ? 'desc' : 'asc');
      remember(params);
      fill();
    } });
    return el('th', { class: key === 'name' ? '' : 'num', scope: 'col', 'data-key': key }, button);
  });
  const caption = el('div', { class: 'muted table-caption' });
  const cell = (key, r) => {
    switch (key) {
      case 'flatPct': return percent(r.flat, total);
      case 'cumPct': return percent(r.cum, total);
      case 'deltaFlat': return signed(formatValue(r.deltaFlat, unit), r.deltaFlat);
      case 'deltaFlatPct': return signed(percent(r.deltaFlat, total), r.deltaFlat);
      case 'deltaCum': return signed(formatValue(r.deltaCum, unit), r.deltaCum);
      default: return formatValue(r[key], unit);
    }
  };
  function fill() {
    const needle = filter.value.trim().toLowerCase();
    const shown = needle ? rows.filter((r) => r.name.toLowerCase().includes(needle)) : rows.slice();
    const key = sort;
    const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    shown.sort((a, b) => {
      const c = key === 'name' ? byName(a, b) : (diff && key.startsWith('delta') ? Math.abs(a[key]) - Math.abs(b[key]) : a[key] - b[key]);
      // Ties go heaviest cum first, then by name, as the server orders the table.
      return (desc ? -c : c) || (b.cum - a.cum) || byName(a, b);
    });
    heads.forEach((th) => {
      const k = th.getAttribute('data-key');
      if (k === sort) { th.setAttribute('aria-sort', desc ? 'descending' : 'ascending'); } else { th.removeAttribute('aria-sort'); }
      th.firstChild.textContent = columns.find((c) => c[0] === k)[1] + (k === sort ? (desc ? ' ▼' : ' ▲') : '');
    });
    tbody.replaceChildren(...shown.slice(0, TABLE_ROWS).map((r) => el('tr', { 'data-name': r.name },
      columns.map(([k]) => k === 'name'
        ? el('td', { class: 'name', title: r.name + (r.file ? '\n' + r.file : '') }, el('a', { href: '#', onclick: (e) => { e.preventDefault(); onPick(r.name); }, text: r.name }))
        : el('td', { class: 'num', text: cell(k, r) })))));
    caption.textContent = `${shown.length} of ${rows.length} functions` + (shown.length > TABLE_ROWS ? `, first ${TABLE_ROWS} shown` : '') + (diff ? '; Δ % is relative to the base total' : '');
  }
  filter.addEventListener('input', () => {
    if (filter.value) { params.set('filter', filter.value); } else { params.delete('filter'); }
    remember(params);
    fill();
  });
  fill();
  return el('section', { class: 'top-table', 'aria-label': 'Top functions' },
    el('div', { class: 'toolbar' }, el('label', { class: 'grow' }, 'Filter', filter)), caption,
    el('div', { class: 'scroll' }, el('table', { id: diff ? 'diff-top' : 'top' }, el('thead', {}, el('tr', {}, heads)), tbody)));
}

function pprofBlock(command, download) {
  const copy = el('button', { type: 'button', text: 'Copy command' });
  copy.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(command); copy.textContent = 'Copied'; } catch { copy.textContent = 'Select and copy the command'; }
  });
  return el('section', { class: 'pprof', 'aria-label': 'Open with go tool pprof' },
    el('h2', { text: 'go tool pprof' }), el('code', { class: 'cmd', id: 'pprof-command', text: command }),
    el('div', { class: 'toolbar' }, copy, download ? el('a', { class: 'button', href: download, download: '', id: 'download', text: 'Download profile' }) : null));
}

// ---- Explore ----

async function renderExplore(params, gen) {
  const services = (await api('/api/ui/services', new URLSearchParams())) || [];
  if (gen !== generation) { return; }
  if (!params.get('service') && !params.get('range') && !params.get('from') && services.length) {
    // The start page: the hour up to the newest profile of the service that sent it, not an empty last hour.
    const latest = await api('/api/ui/latest', new URLSearchParams());
    if (gen !== generation) { return; }
    if (latest) {
      params.set('service', latest.service);
      if (TYPES.includes(latest.type)) { params.set('type', latest.type); }
      const at = Date.parse(latest.created_at);
      if (at < Date.now() - 3600e3) {
        const to = Math.floor(at / 1000) * 1000 + 1000;
        params.set('from', formatTime(to - 3600e3));
        params.set('to', formatTime(to));
      }
    }
  }
  if (!params.get('service') && services.length) { params.set('service', services[0]); }
  if (!params.get('type')) { params.set('type', 'cpu'); }
  if (!params.get('range') && !params.get('from')) { params.set('range', '1h'); }
  const service = params.get('service') || '';
  const range = rangeOf(params);
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) { if (v === null || v === '') { next.delete(k); } else { next.set(k, v); } }
    location.hash = link('explore', next);
  };

  const serviceSelect = el('select', { id: 'service', onchange: (e) => go({ service: e.target.value, labels: null }) },
    services.map((s) => el('option', { value: s, selected: s === service, text: s })));
  if (!services.length) { serviceSelect.append(el('option', { value: '', text: 'no services yet' })); }
  const typeSelect = el('select', { id: 'type', onchange: (e) => go({ type: e.target.value }) },
    TYPES.map((t) => el('option', { value: t, selected: t === params.get('type'), text: t })));
  const presets = PRESETS.map(([key, label]) => el('button', { type: 'button', 'aria-pressed': String(params.get('range') === key), onclick: () => go({ range: key, from: null, to: null }), text: label }));
  const fromInput = el('input', { id: 'from', type: 'datetime-local', step: '1', value: formatTime(range.from) });
  const toInput = el('input', { id: 'to', type: 'datetime-local', step: '1', value: formatTime(range.to) });
  const apply = el('button', { type: 'button', class: 'primary', text: 'Apply range', onclick: () => go({ range: null, from: fromInput.value.length === 16 ? fromInput.value + ':00' : fromInput.value, to: toInput.value.length === 16 ? toInput.value + ':00' : toInput.value }) });

  const labels = parseLabels(params.get('labels'));
  const known = (await api('/api/0/labels', new URLSearchParams({ service }))) || [];
  if (gen !== generation) { return; }
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
  const length = range.to - range.from;
  const compareParams = new URLSearchParams({ service, type: params.get('type') });
  if (params.get('labels')) { compareParams.set('labels', params.get('labels')); }
  compareParams.set('base_from', formatTime(range.from - length));
  compareParams.set('base_to', formatTime(range.from));
  compareParams.set('new_from', formatTime(range.from));
  compareParams.set('new_to', formatTime(range.to));
  const compareLink = el('a', { class: 'button', id: 'compare-previous', href: link('compare', compareParams), text: 'Compare with the previous period' });

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
  if (params.get('group_by')) { seriesQuery.set('group_by', params.get('group_by')); }
  const listQuery = new URLSearchParams(q);
  listQuery.set('limit', String(LIST_PAGE));
  if (params.get('before')) { listQuery.set('to', params.get('before')); }
  const started = performance.now();
  const [series, timeline] = await Promise.all([api('/api/0/timeseries', seriesQuery).catch(() => null), api('/api/ui/timeline', listQuery)]);
  if (gen !== generation) { return; }
  setStatus('');
  const groupSelect = el('select', { id: 'group-by', 'aria-label': 'Group by', onchange: (e) => go({ group_by: e.target.value || null }) },
    el('option', { value: '', text: 'no grouping' }), known.map((l) => el('option', { value: l.key, selected: l.key === params.get('group_by'), text: l.key })));
  const onBrush = (from, to) => go({ range: null, from: formatTime(from), to: formatTime(to), before: null });
  if (series) {
    renderSeries(timelineBox, series, range, step, groupSelect, onBrush);
  } else {
    renderTimeline(timelineBox, timeline, range, onBrush);
  }
  timelineBox.setAttribute('data-drawn-ms', String(Math.round(performance.now() - started)));
  renderProfileList(listBox, timeline, params);
  const points = timeline ? timeline.points : [];
  if (points.length === LIST_PAGE) {
    const older = points[0].created_at.replace(/\.\d+Z$/, '').replace('Z', '');
    const olderTime = formatTime(Date.parse(older + 'Z') - 1000);
    listBox.append(el('div', { class: 'toolbar' }, el('a', { class: 'button', id: 'older', href: link('explore', new URLSearchParams({ ...Object.fromEntries(params), before: olderTime })), text: 'Older profiles' })));
  }
}

const LIST_PAGE = 100;
const SERIES_POINTS = 240;
const NICE_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

// The smallest round step that keeps the chart within SERIES_POINTS points.
function seriesStep(spanMs) {
  const seconds = Math.max(1, spanMs / 1000);
  return NICE_STEPS.find((s) => seconds / s <= SERIES_POINTS) || Math.ceil(seconds / SERIES_POINTS / 86400) * 86400;
}

function renderSeries(box, series, range, step, groupSelect, onBrush) {
  const width = Math.max(box.clientWidth || main.clientWidth - 40, 300);
  const height = 180;
  const top = 8;
  const bottom = 22;
  const typeIndex = Math.max(0, series.sample_types.length - 1);
  const unit = (series.sample_types[typeIndex] || '').split('/')[1] || '';
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'timeline series');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  const add = (tag, attrs, text) => {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) { node.setAttribute(k, v); }
    if (text) { node.textContent = text; }
    svg.append(node);
    return node;
  };
  const from = Date.parse(series.from);
  const span = range.to - range.from || 1;
  let max = 0;
  let profiles = 0;
  let total = 0;
  for (const s of series.series) {
    for (const v of s.values[typeIndex] || []) { max = Math.max(max, v); total += v; }
    for (const c of s.counts) { profiles += c; }
  }
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const legend = [];
  series.series.forEach((s, i) => {
    const values = s.values[typeIndex] || [];
    const color = palette[i % palette.length];
    const d = values.map((v, p) => {
      const x = (from + p * step * 1000 + step * 500 - range.from) / span * width;
      const y = height - bottom - (max > 0 ? v / max * (height - top - bottom) : 0);
      return `${p === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
    }).join('');
    const line = add('path', { class: 'series-line', d, fill: 'none', stroke: color, 'stroke-width': 1.5, 'data-group': s.group });
    const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    title.textContent = s.group || 'all';
    line.append(title);
    legend.push(el('span', { class: 'series-legend', style: `border-bottom: 2px solid ${color}` }, s.group || 'all'));
  });
  add('text', { x: 2, y: height - 6 }, formatTime(range.from) + 'Z');
  add('text', { x: width - 2, y: height - 6, 'text-anchor': 'end' }, formatTime(range.to) + 'Z');
  svg.setAttribute('aria-label', `${profiles} profiles in ${series.series.length} series between ${formatTime(range.from)} and ${formatTime(range.to)} UTC`);
  addBrush(svg, add('rect', { class: 'brush', x: 0, y: 0, width: 0, height: height - bottom, visibility: 'hidden' }), width, range, onBrush);
  box.replaceChildren(
    el('h2', { text: 'Timeline' }),
    el('div', { class: 'toolbar' }, el('label', {}, 'Group by', groupSelect), ...legend),
    el('p', { class: 'muted', id: 'timeline-summary' }, `${profiles} profiles, ${(series.sample_types[typeIndex] || '').split('/')[0]} total ${formatValue(total, unit)}. One point per ${step >= 3600 ? step / 3600 + ' h' : step / 60 + ' min'}; drag across the timeline to narrow the range.`),
    svg);
}

// Dragging across a timeline selects a time range: onBrush(from, to) in ms, whole seconds.
function addBrush(svg, brush, width, range, onBrush) {
  const span = range.to - range.from || 1;
  let start = null;
  const toX = (e) => { const r = svg.getBoundingClientRect(); return Math.min(Math.max((e.clientX - r.left) / r.width * width, 0), width); };
  svg.addEventListener('pointerdown', (e) => { start = toX(e); svg.setPointerCapture(e.pointerId); });
  svg.addEventListener('pointermove', (e) => {
    if (start === null) { return; }
    const x = toX(e);
    brush.setAttribute('x', Math.min(start, x));
    brush.setAttribute('width', Math.abs(x - start));
    brush.setAttribute('visibility', 'visible');
  });
  svg.addEventListener('pointerup', (e) => {
    if (start === null) { return; }
    const x = toX(e);
    const a = Math.min(start, x);
    const b = Math.max(start, x);
    start = null;
    brush.setAttribute('visibility', 'hidden');
    if (b - a > 4) { onBrush(Math.floor((range.from + a / width * span) / 1000) * 1000, Math.ceil((range.from + b / width * span) / 1000) * 1000); }
  });
}

function renderTimeline(box, timeline, range, onBrush) {
  const points = timeline ? timeline.points : [];
  const width = Math.max(box.clientWidth || main.clientWidth - 40, 300);
  const height = 140;
  const top = 8;
  const bottom = 22;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'timeline');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  const max = points.reduce((m, p) => Math.max(m, p.total || 0), 0);
  const span = range.to - range.from || 1;
  const barWidth = Math.max(2, Math.min(12, width / Math.max(points.length, 1) / 2));
  const add = (tag, attrs, text) => {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) { node.setAttribute(k, v); }
    if (text) { node.textContent = text; }
    svg.append(node);
    return node;
  };
  const unit = timeline ? timeline.unit : '';
  for (const p of points) {
    const t = Date.parse(p.created_at);
    const x = (t - range.from) / span * width;
    const h = p.total !== null && max > 0 ? Math.max(2, p.total / max * (height - top - bottom)) : (height - top - bottom) / 3;
    const bar = add('rect', { class: p.total === null ? 'bar missing' : 'bar', x: x - barWidth / 2, y: height - bottom - h, width: barWidth, height: h });
    const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    title.textContent = `${p.created_at} ${p.id}` + (p.total !== null ? ` — ${formatValue(p.total, unit)}` : '');
    bar.append(title);
  }
  add('text', { x: 2, y: height - 6 }, formatTime(range.from) + 'Z');
  add('text', { x: width - 2, y: height - 6, 'text-anchor': 'end' }, formatTime(range.to) + 'Z');
  const totalSum = points.reduce((s, p) => s + (p.total || 0), 0);
  svg.setAttribute('aria-label', `${points.length} profiles between ${formatTime(range.from)} and ${formatTime(range.to)} UTC`);
  addBrush(svg, add('rect', { class: 'brush', x: 0, y: 0, width: 0, height: height - bottom, visibility: 'hidden' }), width, range, onBrush);
  box.replaceChildren(
    el('h2', { text: 'Timeline' }),
    el('p', { class: 'muted', id: 'timeline-summary' }, `${points.length} profiles` + (timeline && timeline.totals && timeline.sampleType ? `, ${timeline.sampleType} total ${formatValue(totalSum, unit)}` : '')
      + (timeline && !timeline.totals ? ` (more than ${timeline.maxTotals}: totals not computed, narrow the range)` : '') + '. Drag across the timeline to narrow the range.'),
    svg);
}

function renderProfileList(box, timeline, params) {
  const points = timeline ? timeline.points : [];
  if (!points.length) { box.replaceChildren(el('p', { class: 'muted', id: 'no-profiles', text: 'No profiles in this range.' })); return; }
  const unit = timeline.unit;
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
      el('td', { text: (p.labels || []).map((l) => `${l.key}=${l.value}`).join(', ') }),
      el('td', { class: 'num', text: p.total === null ? '–' : formatValue(p.total, unit) }));
  });
  box.replaceChildren(el('h2', { text: 'Profiles' }),
    el('div', { class: 'toolbar' }, openSelected, compareSelected),
    el('div', { class: 'scroll' }, el('table', { id: 'profiles' },
      el('thead', {}, el('tr', {}, ['', 'Created (UTC)', 'Id', 'Type', 'Labels', 'Total'].map((h, i) => el('th', { scope: 'col', class: i === 5 ? 'num' : '', text: h })))),
      el('tbody', {}, rows))));
  void params;
}

// ---- Profile ----

function sourceParams(params, prefix = '') {
  const q = new URLSearchParams();
  if (params.get(prefix + 'id')) {
    for (const id of params.get(prefix + 'id').split(/[+, ]/).filter(Boolean)) { q.append(prefix + 'id', id); }
    return q;
  }
  for (const key of ['service', 'type', 'labels']) { if (params.get(key)) { q.set(key, params.get(key)); } }
  q.set(prefix + 'from', params.get(prefix + 'from') || '');
  q.set(prefix + 'to', params.get(prefix + 'to') || '');
  return q;
}

function metaPanel(data) {
  const items = [];
  const add = (name, value) => { if (value !== '' && value !== null && value !== undefined) { items.push(el('dt', { text: name }), el('dd', { text: value })); } };
  if (data.query) {
    add('Service', data.query.service);
    add('Type', data.query.type);
    add('Labels', data.query.labels.map((l) => `${l.key}=${l.value}`).join(', ') || 'any');
    add('Range (UTC)', `${data.query.from} – ${data.query.to}`);
  }
  add('Profiles', String(data.profileCount));
  if (data.metas.length === 1) {
    const m = data.metas[0];
    add('Id', m.id); add('Service', m.service); add('Type', m.type); add('Created', m.created_at);
    add('Labels', m.labels.map((l) => `${l.key}=${l.value}`).join(', '));
  } else if (data.ids.length) {
    add('Ids', data.ids.join(', '));
  }
  add('Sample types', data.sampleTypes.map((t) => `${t.type}/${t.unit}`).join(', '));
  add('Samples', data.samples.toLocaleString('en-US'));
  add('Total', `${formatValue(data.flame.total, data.unit)} (${data.sampleType})`);
  if (data.timeNanos) { add('Time', new Date(data.timeNanos / 1e6).toISOString()); }
  if (data.durationNanos) { add('Duration', formatValue(data.durationNanos, 'nanoseconds')); }
  if (data.period) { add('Period', `${data.period.toLocaleString('en-US')} ${data.periodType}`); }
  add('Flame graph', `${data.flame.nodeCount.toLocaleString('en-US')} nodes` + (data.flame.truncated ? ' (capped; the smallest are summed into "other")' : ''));
  if (data.comments.length) { add('Comments', data.comments.join('; ')); }
  return el('section', { class: 'meta', 'aria-label': 'Profile metadata' }, el('h2', { text: 'Metadata' }), el('dl', {}, items));
}

async function renderProfile(params, gen) {
  if (!params.get('id') && !params.get('service')) {
    main.replaceChildren(el('h1', { text: 'Profile' }), el('p', { class: 'muted' }, 'Open a profile from ', el('a', { href: '#/explore', text: 'Explore' }), ', or give ', el('code', { text: '#/profile?id=<id>' }), '.'));
    return;
  }
  const q = sourceParams(params);
  if (params.get('sample_type')) { q.set('sample_type', params.get('sample_type')); }
  setStatus('Loading profile…');
  const started = performance.now();
  const data = await api('/api/ui/profile', q);
  if (gen !== generation) { return; }
  setStatus('');
  if (!data) { main.replaceChildren(el('h1', { text: 'Profile' }), el('div', { class: 'error', role: 'alert', text: 'nothing found' })); return; }
  window.profefeDataAt = performance.now();
  window.profefeFetchMs = window.profefeDataAt - started;
  const title = data.query
    ? `${data.query.service} · ${data.query.type} · ${data.profileCount} profiles merged`
    : data.ids.length === 1 ? `Profile ${data.ids[0]}` : `${data.ids.length} profiles merged`;
  const sampleSelect = el('select', { id: 'sample-type', onchange: (e) => { params.set('sample_type', e.target.value); params.delete('zoom'); location.hash = link('profile', params); } },
    data.sampleTypes.map((t, i) => el('option', { value: t.type, selected: i === data.sampleIndex, text: `${t.type} (${t.unit})` })));
  const expand = async (path) => {
    const fq = new URLSearchParams(q);
    fq.set('sample_type', data.sampleType);
    for (const frame of path) { fq.append('focus', frame); }
    const body = await api('/api/ui/flame', fq);
    return body && body.flame;
  };
  const panel = flamePanel({ graph: data.flame, unit: data.unit, params, title: 'Flame graph', expand });
  const tableBox = el('div', {}, el('h2', { text: 'Top functions' }));
  // The flame graph is what the page is opened for: it is drawn and painted first, the table right after.
  panel.drawn.then(() => setTimeout(() => {
    if (gen !== generation) { return; }
    tableBox.append(topTable({ top: data.top, unit: data.unit, params, onPick: (name) => { panel.search.value = name; panel.applySearch(); panel.search.focus(); } }));
  }, 0));
  main.replaceChildren(
    el('h1', { id: 'profile-title', text: title }),
    el('div', { class: 'toolbar' }, el('label', {}, 'Sample type', sampleSelect),
      el('span', { class: 'muted', id: 'profile-total', text: `Total ${formatValue(data.flame.total, data.unit)}` })),
    panel.panel,
    el('div', { class: 'split' }, tableBox, el('div', {}, metaPanel(data), pprofBlock(data.pprofCommand, data.download))));
}

// ---- Compare ----

async function renderCompare(params, gen) {
  const byIds = params.get('base_id') || params.get('new_id');
  const field = (key, label, type = 'datetime-local') => el('label', {}, label, el('input', { id: key.replace('_', '-'), type, step: '1', value: params.get(key) || '', 'data-key': key }));
  const form = el('form', { class: 'compare-form' },
    el('fieldset', {}, el('legend', { text: 'Two time ranges of one query' }),
      el('div', { class: 'row' }, field('service', 'Service', 'text'), field('type', 'Type', 'text'), field('labels', 'Labels (k=v,…)', 'text')),
      el('div', { class: 'row' }, field('base_from', 'Base from (UTC)'), field('base_to', 'Base to (UTC)'), field('new_from', 'New from (UTC)'), field('new_to', 'New to (UTC)'))),
    el('fieldset', {}, el('legend', { text: 'or two profiles' }),
      el('div', { class: 'row' }, field('base_id', 'Base id(s)', 'text'), field('new_id', 'New id(s)', 'text'))),
    el('button', { type: 'submit', class: 'primary', text: 'Compare' }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const input of form.querySelectorAll('input')) {
      let value = input.value.trim();
      if (input.type === 'datetime-local' && value.length === 16) { value += ':00'; }
      if (value) { next.set(input.getAttribute('data-key'), value); }
    }
    if (next.get('base_id') || next.get('new_id')) {
      for (const key of ['base_from', 'base_to', 'new_from', 'new_to']) { next.delete(key); }
    }
    location.hash = link('compare', next);
  });
  const result = el('div', { id: 'compare-result' });
  main.replaceChildren(el('h1', { text: 'Compare' }), form, result);
  if (!byIds && !(params.get('service') && params.get('base_from') && params.get('new_from'))) {
    result.append(el('p', { class: 'muted', text: 'Pick a query and two ranges, or two profile ids.' }));
    return;
  }
  const q = byIds ? new URLSearchParams([...sourceParams(params, 'base_'), ...sourceParams(params, 'new_')]) : (() => {
    const p = new URLSearchParams();
    for (const key of ['service', 'type', 'labels', 'base_from', 'base_to', 'new_from', 'new_to']) { if (params.get(key)) { p.set(key, params.get(key)); } }
    return p;
  })();
  if (params.get('sample_type')) { q.set('sample_type', params.get('sample_type')); }
  setStatus('Comparing…');
  const data = await api('/api/ui/compare', q);
  if (gen !== generation) { return; }
  setStatus('');
  if (!data) { result.append(el('div', { class: 'error', role: 'alert', text: 'nothing found on one of the two sides' })); return; }
  const unit = data.unit;
  const baseTotal = data.flame.diff.baseTotal;
  const newTotal = data.flame.diff.newTotal;
  const change = newTotal - baseTotal;
  const describe = (side) => side.query ? `${side.profileCount} profiles, ${side.query.from} – ${side.query.to}` : side.ids.join(', ');
  // Each side's own graph can fetch a capped frame's callees like the profile page; the diff graph stays capped.
  const sideExpand = (prefix) => async (path) => {
    const fq = new URLSearchParams();
    for (const [key, value] of sourceParams(params, prefix)) { fq.append(key.startsWith(prefix) ? key.slice(prefix.length) : key, value); }
    fq.set('sample_type', data.sampleType);
    for (const frame of path) { fq.append('focus', frame); }
    const body = await api('/api/ui/flame', fq);
    return body && body.flame;
  };
  const basePanel = flamePanel({ graph: data.base.flame, unit, params, title: 'Base', searchKey: 'base_search', zoomKey: 'base_zoom', compact: true, expand: sideExpand('base_') });
  const newPanel = flamePanel({ graph: data.new.flame, unit, params, title: 'New', searchKey: 'new_search', zoomKey: 'new_zoom', compact: true, expand: sideExpand('new_') });
  const diffPanel = flamePanel({ graph: data.flame, unit, params, title: 'Diff flame graph' });
  const table = topTable({ top: data.top, unit, params, diff: true, onPick: (name) => { diffPanel.search.value = name; diffPanel.applySearch(); diffPanel.search.focus(); } });
  result.append(
    el('p', { id: 'compare-summary' }, `Base: ${describe(data.base)} — ${formatValue(baseTotal, unit)}. New: ${describe(data.new)} — ${formatValue(newTotal, unit)}. `,
      el('strong', { text: `Change ${signed(formatValue(change, unit), change)} (${signed(percent(change, baseTotal), change)} of base)` })),
    el('div', { class: 'grid2' }, basePanel.panel, newPanel.panel),
    el('h2', { text: 'Diff (new against base, as go tool pprof -diff_base)' }),
    el('div', { class: 'legend' }, el('span', {}, el('span', { class: 'sw', style: 'background:#eb4646' }), 'grew'), el('span', {}, el('span', { class: 'sw', style: 'background:#46e146' }), 'shrank'), el('span', {}, 'width = base + new')),
    diffPanel.panel,
    el('div', { class: 'split' }, el('div', {}, el('h2', { text: 'Functions by change' }), table), el('div', {}, pprofBlock(data.pprofCommand, null),
      el('p', {}, el('a', { href: data.base.download, text: 'Download base' }), ' · ', el('a', { href: data.new.download, text: 'Download new' })))));
}

// ---- router ----

async function render() {
  const gen = ++generation;
  const { page, params } = route();
  tooltip.hidden = true;
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.getAttribute('data-page') === page) { a.setAttribute('aria-current', 'page'); } else { a.removeAttribute('aria-current'); }
  }
  document.title = `profefe · ${page}`;
  if (main.dataset.page !== page) {
    // Another page was shown: clear it now, so a failure below is not shown under that page's content.
    main.dataset.page = page;
    main.replaceChildren(el('h1', { text: { profile: 'Profile', compare: 'Compare' }[page] || 'Explore' }));
  }
  try {
    if (page === 'profile') { await renderProfile(params, gen); } else if (page === 'compare') { await renderCompare(params, gen); } else { await renderExplore(params, gen); }
  } catch (error) {
    if (gen === generation) {
      setStatus('');
      showError(main, error);
    }
  }
}

window.addEventListener('hashchange', render);
render();
