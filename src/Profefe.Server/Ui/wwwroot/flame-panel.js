// @ts-check
// A flame graph panel: the canvas graph with search, reset, zoom crumbs and a line describing the selected frame.
import { FlameGraph } from './flame.js';
import { el, setStatus, showTooltip } from './dom.js';
import { formatValue, percent, signed } from './format.js';
import { remember } from './route.js';

/** @typedef {import('./flame.js').Graph} Graph */
/** @typedef {import('./flame.js').FlameNode} FlameNode */

/**
 * The lines that describe a frame: name, then total and self, or for a diff base, new and change.
 * @param {FlameNode} node
 * @param {Graph} graph
 * @param {string} unit
 * @returns {string[]}
 */
export function describeNode(node, graph, unit) {
  if (graph.diff) {
    const baseTotal = node.baseTotal || 0;
    const newTotal = node.newTotal || 0;
    const delta = newTotal - baseTotal;
    return [node.name, `base ${formatValue(baseTotal, unit)} (${percent(baseTotal, graph.diff.baseTotal)})`,
      `new ${formatValue(newTotal, unit)} (${percent(newTotal, graph.diff.baseTotal)})`,
      `change ${signed(formatValue(delta, unit), delta)} (${signed(percent(delta, graph.diff.baseTotal), delta)} of base)`];
  }
  return [node.name, `total ${formatValue(node.total, unit)} (${percent(node.total, graph.total)})`, `self ${formatValue(node.self, unit)} (${percent(node.self, graph.total)})`];
}

/**
 * A flame graph with search, reset and a line describing the zoomed and selected frames. With expand, zooming
 * into a frame whose callees the node cap cut fetches that frame's own graph (expand(path) resolves to it).
 * @param {{ graph: Graph, unit: string, params: URLSearchParams, title: string, searchKey?: string, zoomKey?: string,
 *   compact?: boolean, expand?: ((path: string[]) => Promise<Graph | null>) | null }} options
 */
export function flamePanel({ graph, unit, params, title, searchKey = 'search', zoomKey = 'zoom', compact = false, expand = null }) {
  const canvas = el('canvas', { class: 'flame', 'aria-label': `${title}: arrow keys move between frames, Enter zooms, Escape resets` });
  const selectedLine = el('div', { class: 'selected-frame', 'aria-live': 'polite' });
  const crumbs = el('div', { class: 'crumbs' });
  const searchResult = el('span', { class: 'search-result muted', 'aria-live': 'polite' });
  const search = el('input', { type: 'search', placeholder: 'Search frames', 'aria-label': `Search frames in ${title}`, value: params.get(searchKey) || '' });
  const reset = el('button', { type: 'button', text: 'Reset zoom' });
  const expanded = new Set();
  /** @type {number[] | null} */
  let pendingZoom = null;
  /** @param {FlameNode} node @param {string[]} path */
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
      setStatus('Could not load the frames under ' + node.name + ': ' + (error instanceof Error ? error.message : String(error)));
    } finally {
      window.profefeExpanding = (window.profefeExpanding || 1) - 1;
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
  /** @type {() => void} */
  let resolveDrawn = () => {};
  /** @type {Promise<void>} */
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

