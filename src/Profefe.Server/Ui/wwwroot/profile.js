// @ts-check
// Profile: one profile (or a merge) as a flame graph and top table, with its metadata and the pprof command.
import { api } from './api.js';
import { el, main, setStatus, valueOf } from './dom.js';
import { flamePanel } from './flame-panel.js';
import { formatValue, labelList } from './format.js';
import { sourceParams } from './range.js';
import { link } from './route.js';
import { topTable } from './top-table.js';

/**
 * The go tool pprof command for the view, with a copy button, and the profile's download link.
 * @param {string} command
 * @param {string | null} download
 */
export function pprofBlock(command, download) {
  const copy = el('button', { type: 'button', text: 'Copy command' });
  copy.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(command); copy.textContent = 'Copied'; } catch { copy.textContent = 'Select and copy the command'; }
  });
  return el('section', { class: 'pprof', 'aria-label': 'Open with go tool pprof' },
    el('h2', { text: 'go tool pprof' }), el('code', { class: 'cmd', id: 'pprof-command', text: command }),
    el('div', { class: 'toolbar' }, copy, download ? el('a', { class: 'button', href: download, download: '', id: 'download', text: 'Download profile' }) : null));
}

/** @param {import('./api.js').ProfileBody} data */
function metaPanel(data) {
  /** @type {HTMLElement[]} */
  const items = [];
  /** @param {string} name @param {string | null | undefined} value */
  const add = (name, value) => { if (value !== '' && value !== null && value !== undefined) { items.push(el('dt', { text: name }), el('dd', { text: value })); } };
  if (data.query) {
    add('Service', data.query.service);
    add('Type', data.query.type);
    add('Labels', labelList(data.query.labels) || 'any');
    add('Range (UTC)', `${data.query.from} – ${data.query.to}`);
  }
  add('Profiles', String(data.profileCount));
  if (data.metas.length === 1) {
    const m = data.metas[0];
    add('Id', m.id); add('Service', m.service); add('Type', m.type); add('Created', m.created_at);
    add('Labels', labelList(m.labels));
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

/**
 * @param {URLSearchParams} params
 * @param {() => boolean} current false once the user went on to another view
 */
export async function renderProfile(params, current) {
  if (!params.get('id') && !params.get('service')) {
    main.replaceChildren(el('h1', { text: 'Profile' }), el('p', { class: 'muted' }, 'Open a profile from ', el('a', { href: '#/explore', text: 'Explore' }), ', or give ', el('code', { text: '#/profile?id=<id>' }), '.'));
    return;
  }
  const q = sourceParams(params);
  const sampleType = params.get('sample_type');
  if (sampleType) { q.set('sample_type', sampleType); }
  setStatus('Loading profile…');
  const started = performance.now();
  /** @type {import('./api.js').ProfileBody | null} */
  const data = await api('/api/ui/profile', q);
  if (!current()) { return; }
  setStatus('');
  if (!data) { main.replaceChildren(el('h1', { text: 'Profile' }), el('div', { class: 'error', role: 'alert', text: 'nothing found' })); return; }
  window.profefeDataAt = performance.now();
  window.profefeFetchMs = window.profefeDataAt - started;
  const title = data.query
    ? `${data.query.service} · ${data.query.type} · ${data.profileCount} profiles merged`
    : data.ids.length === 1 ? `Profile ${data.ids[0]}` : `${data.ids.length} profiles merged`;
  const sampleSelect = el('select', { id: 'sample-type', onchange: (/** @type {Event} */ e) => { params.set('sample_type', valueOf(e)); params.delete('zoom'); location.hash = link('profile', params); } },
    data.sampleTypes.map((t, i) => el('option', { value: t.type, selected: i === data.sampleIndex, text: `${t.type} (${t.unit})` })));
  /** @param {string[]} path @returns {Promise<import('./api.js').Graph | null>} */
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
    if (!current()) { return; }
    tableBox.append(topTable({ top: data.top, unit: data.unit, params, onPick: (name) => { panel.search.value = name; panel.applySearch(); panel.search.focus(); } }));
  }, 0));
  main.replaceChildren(
    el('h1', { id: 'profile-title', text: title }),
    el('div', { class: 'toolbar' }, el('label', {}, 'Sample type', sampleSelect),
      el('span', { class: 'muted', id: 'profile-total', text: `Total ${formatValue(data.flame.total, data.unit)}` })),
    panel.panel,
    el('div', { class: 'split' }, tableBox, el('div', {}, metaPanel(data), pprofBlock(data.pprofCommand, data.download))));
}

