// @ts-check
// The Explore page's charts: the engine's time series (one line per group) or, without it, one bar per profile.
import { el, main } from './dom.js';
import { formatTime, formatValue } from './format.js';
import { brushRange } from './range.js';


/** @typedef {import('./range.js').Range} Range */
/** @typedef {(from: number, to: number) => void} OnBrush */

const SVG = 'http://www.w3.org/2000/svg';

/**
 * An empty chart as wide as box, and a function adding an element with attributes (and text) to it.
 * @param {HTMLElement} box
 * @param {number} height
 * @param {string} className
 */
function chart(box, height, className) {
  const width = Math.max(box.clientWidth || main.clientWidth - 40, 300);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', className);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  /**
   * @param {string} tag
   * @param {Record<string, string | number>} attrs
   * @param {string} [text]
   */
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) { node.setAttribute(k, String(v)); }
    if (text) { node.textContent = text; }
    svg.append(node);
    return node;
  };
  return { svg, add, width };
}

/**
 * The engine's time series: one line per group, totals per step.
 * @param {HTMLElement} box
 * @param {import('./api.js').SeriesBody} series
 * @param {Range} range
 * @param {number} step seconds
 * @param {HTMLSelectElement} groupSelect
 * @param {OnBrush} onBrush
 */
export function renderSeries(box, series, range, step, groupSelect, onBrush) {
  const height = 180;
  const top = 8;
  const bottom = 22;
  const typeIndex = Math.max(0, series.sample_types.length - 1);
  const unit = (series.sample_types[typeIndex] || '').split('/')[1] || '';
  const { svg, add, width } = chart(box, height, 'timeline series');
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
  /** @type {HTMLElement[]} */
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
    const title = document.createElementNS(SVG, 'title');
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

/**
 * Dragging across a timeline selects a time range: onBrush(from, to) in ms, whole seconds.
 * @param {SVGSVGElement} svg
 * @param {Element} brush
 * @param {number} width
 * @param {Range} range
 * @param {OnBrush} onBrush
 */
function addBrush(svg, brush, width, range, onBrush) {
  /** @type {number | null} */
  let start = null;
  /** @param {PointerEvent} e */
  const toX = (e) => { const r = svg.getBoundingClientRect(); return Math.min(Math.max((e.clientX - r.left) / r.width * width, 0), width); };
  svg.addEventListener('pointerdown', (e) => { start = toX(e); svg.setPointerCapture(e.pointerId); });
  svg.addEventListener('pointermove', (e) => {
    if (start === null) { return; }
    const x = toX(e);
    brush.setAttribute('x', String(Math.min(start, x)));
    brush.setAttribute('width', String(Math.abs(x - start)));
    brush.setAttribute('visibility', 'visible');
  });
  svg.addEventListener('pointerup', (e) => {
    if (start === null) { return; }
    const x = toX(e);
    const a = Math.min(start, x);
    const b = Math.max(start, x);
    start = null;
    brush.setAttribute('visibility', 'hidden');
    if (b - a > 4) {
      const selected = brushRange(a, b, width, range);
      onBrush(selected.from, selected.to);
    }
  });
}

/**
 * Without the engine's series: one bar per profile of the list, as high as its total.
 * @param {HTMLElement} box
 * @param {import('./api.js').TimelineBody | null} timeline
 * @param {Range} range
 * @param {OnBrush} onBrush
 */
export function renderTimeline(box, timeline, range, onBrush) {
  const points = timeline ? timeline.points : [];
  const height = 140;
  const top = 8;
  const bottom = 22;
  const { svg, add, width } = chart(box, height, 'timeline');
  const max = points.reduce((m, p) => Math.max(m, p.total || 0), 0);
  const span = range.to - range.from || 1;
  const barWidth = Math.max(2, Math.min(12, width / Math.max(points.length, 1) / 2));
  const unit = timeline ? timeline.unit : '';
  for (const p of points) {
    const t = Date.parse(p.created_at);
    const x = (t - range.from) / span * width;
    const h = p.total !== null && max > 0 ? Math.max(2, p.total / max * (height - top - bottom)) : (height - top - bottom) / 3;
    const bar = add('rect', { class: p.total === null ? 'bar missing' : 'bar', x: x - barWidth / 2, y: height - bottom - h, width: barWidth, height: h });
    const title = document.createElementNS(SVG, 'title');
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

