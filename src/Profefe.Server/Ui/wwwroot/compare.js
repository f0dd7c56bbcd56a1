// @ts-check
// Compare: base against new (two ranges of one query, or two sets of ids) as go tool pprof -diff_base shows it.
import { api } from './api.js';
import { el, main, setStatus, valueOf } from './dom.js';
import { flamePanel } from './flame-panel.js';
import { formatValue, percent, signed, withSeconds } from './format.js';
import { pprofBlock } from './profile.js';
import { compareQuery, sideQuery } from './range.js';
import { link } from './route.js';
import { topTable } from './top-table.js';

/**
 * @param {URLSearchParams} params
 * @param {() => boolean} current false once the user went on to another view
 */
export async function renderCompare(params, current) {
  const byIds = params.get('base_id') || params.get('new_id');
  /** @param {string} key @param {string} label @param {string} [type] */
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
      if (input.type === 'datetime-local') { value = withSeconds(value); }
      const key = input.getAttribute('data-key');
      if (value && key) { next.set(key, value); }
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
  const q = compareQuery(params);
  const sampleType = params.get('sample_type');
  if (sampleType) { q.set('sample_type', sampleType); }
  setStatus('Comparing…');
  /** @type {import('./api.js').CompareBody | null} */
  const data = await api('/api/ui/compare', q);
  if (!current()) { return; }
  setStatus('');
  if (!data) { result.append(el('div', { class: 'error', role: 'alert', text: 'nothing found on one of the two sides' })); return; }
  const unit = data.unit;
  const baseTotal = data.flame.diff.baseTotal;
  const newTotal = data.flame.diff.newTotal;
  const change = newTotal - baseTotal;
  /** @param {import('./api.js').Source} side */
  const describe = (side) => side.query ? `${side.profileCount} profiles, ${side.query.from} – ${side.query.to}` : side.ids.join(', ');
  // Each side's own graph can fetch a capped frame's callees like the profile page; the diff graph stays capped.
  /** @param {string} prefix @returns {(path: string[]) => Promise<import('./api.js').Graph | null>} */
  const sideExpand = (prefix) => async (path) => {
    const fq = sideQuery(params, prefix);
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

