// @ts-check
// The top table (go tool pprof -top by function), plain or diff, sortable and filterable.
import { el } from './dom.js';
import { formatValue, percent, signed } from './format.js';
import { remember } from './route.js';
import { compareRows, topRows } from './top-rows.js';

/** @typedef {import('./top-rows.js').Top} Top */
/** @typedef {import('./top-rows.js').TopRow} TopRow */
/** @typedef {import('./top-rows.js').SortKey} SortKey */

const TABLE_ROWS = 300;

/**
 * Top table: sortable by any column (buttons in the headers), filtered by name; a row click picks the frame.
 * @param {{ top: Top, unit: string, params: URLSearchParams, onPick: (name: string) => void, diff?: boolean }} options
 */
export function topTable({ top, unit, params, onPick, diff = false }) {
  /** @type {[SortKey, string][]} */
  const columns = diff
    ? [['name', 'Function'], ['baseFlat', 'Base flat'], ['flat', 'New flat'], ['deltaFlat', 'Δ flat'], ['deltaFlatPct', 'Δ flat %'], ['baseCum', 'Base cum'], ['cum', 'New cum'], ['deltaCum', 'Δ cum']]
    : [['flat', 'Flat'], ['flatPct', 'Flat %'], ['cum', 'Cum'], ['cumPct', 'Cum %'], ['name', 'Function']];
  const total = (diff ? top.baseTotal : top.total) || 0;
  const rows = topRows(top);
  const keys = columns.map((c) => c[0]);
  const asked = /** @type {SortKey} */ (params.get('sort'));
  let sort = keys.includes(asked) ? asked : diff ? 'deltaFlat' : 'flat';
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
  /** @param {SortKey} key @param {TopRow} r */
  const cell = (key, r) => {
    switch (key) {
      case 'flatPct': return percent(r.flat, total);
      case 'cumPct': return percent(r.cum, total);
      case 'deltaFlat': return signed(formatValue(r.deltaFlat, unit), r.deltaFlat);
      case 'deltaFlatPct': return signed(percent(r.deltaFlat, total), r.deltaFlat);
      case 'deltaCum': return signed(formatValue(r.deltaCum, unit), r.deltaCum);
      case 'name': return r.name;
      default: return formatValue(r[key], unit);
    }
  };
  function fill() {
    const needle = filter.value.trim().toLowerCase();
    const shown = needle ? rows.filter((r) => r.name.toLowerCase().includes(needle)) : rows.slice();
    shown.sort(compareRows(sort, desc, diff));
    heads.forEach((th) => {
      const k = th.getAttribute('data-key');
      const column = columns.find((c) => c[0] === k);
      if (k === sort) { th.setAttribute('aria-sort', desc ? 'descending' : 'ascending'); } else { th.removeAttribute('aria-sort'); }
      if (th.firstChild && column) { th.firstChild.textContent = column[1] + (k === sort ? (desc ? ' ▼' : ' ▲') : ''); }
    });
    tbody.replaceChildren(...shown.slice(0, TABLE_ROWS).map((r) => el('tr', { 'data-name': r.name },
      columns.map(([k]) => k === 'name'
        ? el('td', { class: 'name', title: r.name + (r.file ? '\n' + r.file : '') }, el('a', { href: '#', onclick: (/** @type {Event} */ e) => { e.preventDefault(); onPick(r.name); }, text: r.name }))
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
