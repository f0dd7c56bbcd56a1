// @ts-check
// A flame graph drawn on canvas from the server's levels (see Profefe.Core.Views.FlameGraph and flame-layout.js).
// Hand-drawn rather than a charting library: a 1 MB CPU profile has ~200,000 nodes, drawn per frame of a zoom.
import { diffColor, firstAtOrAfter, frameColor, maxDelta, parentsOf, searchFrames } from './flame-layout.js';

/** @typedef {import('./flame-layout.js').Graph} Graph */

/**
 * One node of the graph, with its place (depth, index in its level) and values; a diff's also has both sides.
 * @typedef {{ depth: number, index: number, x: number, total: number, self: number, name: string,
 *   baseTotal?: number, baseSelf?: number, newTotal?: number }} FlameNode
 */

/** @typedef {{ depth: number, index: number }} Place */

/**
 * @typedef {{ onHover?: (node: FlameNode | null, e: MouseEvent) => void, onSelect?: (node: FlameNode) => void,
 *   onZoom?: (node: FlameNode) => void }} FlameOptions
 */

/** @typedef {HTMLCanvasElement & { flame?: FlameGraph }} FlameCanvas */

const ROW = 18;
const FONT = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

export class FlameGraph {
  /**
   * @param {FlameCanvas} canvas
   * @param {FlameOptions} [options]
   */
  constructor(canvas, options = {}) {
    this.canvas = canvas;
    this.options = options;
    const ctx = canvas.getContext('2d');
    if (!ctx) { throw new Error('no 2d canvas'); }
    this.ctx = ctx;
    /** @type {Graph} */
    this.graph = /** @type {any} */ (null);
    /** @type {Place} */
    this.focus = { depth: 0, index: 0 };
    /** @type {Place | null} */
    this.selected = null;
    /** @type {Uint8Array[] | null} */
    this.matches = null;
    /** @type {Int32Array[]} */
    this.parents = [];
    this.maxDelta = 1;
    this.charWidth = 0;
    this.observed = false;
    /** @type {Map<string, string>} */
    this.colorCache = new Map();
    this.lastDrawMs = 0;
    canvas.flame = this;
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'application');
    canvas.setAttribute('aria-roledescription', 'flame graph');
    canvas.addEventListener('click', (e) => this.onClick(e));
    canvas.addEventListener('mousemove', (e) => this.onMove(e));
    canvas.addEventListener('mouseleave', (e) => this.setHover(null, e));
    canvas.addEventListener('keydown', (e) => this.onKey(e));
    canvas.addEventListener('focus', () => { if (!this.selected && this.graph) { this.select(this.focus.depth, this.focus.index); } });
    this.resizeObserver = new ResizeObserver(() => this.draw());
  }

  /**
   * Call once the canvas is in the document: the graph takes its container's width.
   * @param {Graph} graph
   */
  setData(graph) {
    if (!this.observed) {
      this.resizeObserver.observe(this.container());
      this.observed = true;
    }
    this.graph = graph;
    this.reindex();
    this.focus = { depth: 0, index: 0 };
    this.selected = null;
    this.matches = null;
    this.colorCache = new Map();
    this.draw();
  }

  /** Parents of every node (and the diff colour scale), from the levels. */
  reindex() {
    this.parents = parentsOf(this.graph.levels, this.graph.stride);
    if (this.graph.diff) { this.maxDelta = maxDelta(this.graph.levels, this.graph.stride); }
  }

  /** The element whose width the graph takes. */
  container() {
    const parent = this.canvas.parentElement;
    if (!parent) { throw new Error('the flame graph canvas is not in the document'); }
    return parent;
  }

  /**
   * Whether the node's callees lost frames to the server's node cap (an "other" frame lies under it).
   * @param {number} depth
   * @param {number} index
   */
  hasOtherBelow(depth, index) {
    const other = this.graph.names.indexOf('other');
    if (other < 0) { return false; }
    const node = this.node(depth, index);
    const stride = this.graph.stride;
    for (let d = depth + 1; d < this.graph.levels.length; d++) {
      const level = this.graph.levels[d];
      for (let i = firstAtOrAfter(level, this.graph.stride, node.x); i < level.length && level[i] < node.x + node.total; i += stride) {
        if (level[i + 3] === other) { return true; }
      }
    }
    return false;
  }

  /** The deepest node at or above depth whose span holds x: where a zoom into a frame not (yet) in the graph can start. */
  /**
   * @param {number} depth
   * @param {number} x
   * @returns {Place | null}
   */
  covering(depth, x) {
    for (let d = Math.min(depth, this.graph.levels.length - 1); d >= 0; d--) {
      const level = this.graph.levels[d];
      const i = firstAtOrAfter(level, this.graph.stride, x);
      if (i < level.length && level[i] <= x && x < level[i] + level[i + 1]) { return { depth: d, index: i / this.graph.stride }; }
    }
    return null;
  }

  /**
   * Replaces everything under the node at (depth, index) by sub, the server's graph of that node alone (its root
   * is the node, at x 0). Nodes at depth and above keep their indexes, so the zoom stays where it is.
   */
  /**
   * @param {number} depth
   * @param {number} index
   * @param {Graph} sub
   * @returns {{ removed: number, added: number } | null}
   */
  splice(depth, index, sub) {
    const graph = this.graph;
    const stride = graph.stride;
    const node = this.node(depth, index);
    // A merge over a range can change between requests; then the pieces would not fit.
    if (graph.diff || sub.stride !== stride || sub.total !== node.total) { return null; }
    const start = node.x;
    const end = node.x + node.total;
    const nameIndex = new Map(graph.names.map((n, i) => [n, i]));
    const names = sub.names.map((n) => {
      let i = nameIndex.get(n);
      if (i === undefined) { i = graph.names.length; graph.names.push(n); nameIndex.set(n, i); }
      return i;
    });
    const depthCount = Math.max(graph.levels.length, depth + sub.levels.length);
    let removed = 0;
    let added = 0;
    for (let d = depth + 1; d < depthCount; d++) {
      const level = graph.levels[d] || [];
      const from = firstAtOrAfter(level, this.graph.stride, start);
      let to = from;
      while (to < level.length && level[to] < end) { to += stride; }
      /** @type {number[]} */
      const inserted = [];
      const subLevel = sub.levels[d - depth] || [];
      for (let i = 0; i < subLevel.length; i += stride) {
        inserted.push(subLevel[i] + start, subLevel[i + 1], subLevel[i + 2], names[subLevel[i + 3]]);
      }
      removed += (to - from) / stride;
      added += inserted.length / stride;
      graph.levels[d] = level.slice(0, from).concat(inserted, level.slice(to));
    }
    while (graph.levels.length && graph.levels[graph.levels.length - 1].length === 0) { graph.levels.pop(); }
    graph.nodeCount += added - removed;
    this.reindex();
    this.matches = null;
    this.draw();
    return { removed, added };
  }

  /**
   * @param {number} depth
   * @param {number} index
   * @returns {FlameNode}
   */
  node(depth, index) {
    const level = this.graph.levels[depth];
    const i = index * this.graph.stride;
    /** @type {FlameNode} */
    const node = { depth, index, x: level[i], total: level[i + 1], self: level[i + 2], name: this.graph.names[level[i + 3]] };
    if (this.graph.diff) {
      node.baseTotal = level[i + 4];
      node.baseSelf = level[i + 5];
      node.newTotal = node.total - node.baseTotal;
    }
    return node;
  }

  /** @param {number} depth @param {number} index */
  parentOf(depth, index) { return depth === 0 ? -1 : this.parents[depth][index]; }

  /** @param {number} depth @param {number} index */
  isAncestorOfFocus(depth, index) {
    let d = this.focus.depth;
    let i = this.focus.index;
    while (d > depth) { i = this.parents[d][i]; d--; }
    return d === depth && i === index;
  }

  /** @param {number} depth @param {number} index */
  zoomTo(depth, index) {
    this.focus = { depth, index };
    this.select(depth, index);
    this.draw();
    if (this.options.onZoom) { this.options.onZoom(this.node(depth, index)); }
  }

  reset() { this.zoomTo(0, 0); }

  /**
   * Zooms to the node at depth whose span starts at x (the form kept in shareable URLs).
   * @param {number} depth
   * @param {number} x
   */
  zoomToOffset(depth, x) {
    const level = this.graph.levels[depth];
    if (!level) { return false; }
    for (let i = 0; i < level.length; i += this.graph.stride) {
      if (level[i] === x) { this.zoomTo(depth, i / this.graph.stride); return true; }
    }
    return false;
  }

  /** @param {number} depth @param {number} index */
  select(depth, index) {
    this.selected = { depth, index };
    this.draw();
    if (this.options.onSelect) { this.options.onSelect(this.node(depth, index)); }
  }

  /**
   * Highlights frames whose name contains text (case-insensitive); returns their share, counting nested matches once.
   * @param {string} text
   * @returns {{ value: number, total: number, frames: number } | null}
   */
  setSearch(text) {
    if (!this.graph) { return null; }
    if (!text) { this.matches = null; this.draw(); return null; }
    const found = searchFrames(this.graph, this.parents, text);
    this.matches = found.matches;
    this.draw();
    return { value: found.value, total: this.graph.total, frames: found.frames };
  }

  width() { return this.container().clientWidth; }

  draw() {
    if (!this.graph) { return; }
    const started = performance.now();
    const width = this.width();
    const levels = this.graph.levels;
    const focus = this.node(this.focus.depth, this.focus.index);
    const scale = width / (focus.total || 1);
    const height = (this.visibleDepth(focus, scale) + 1) * ROW;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.height = height + 'px';
    }
    const ctx = this.ctx;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    const charWidth = this.charWidth || (this.charWidth = ctx.measureText('mmmmmmmmmm').width / 10);
    const stride = this.graph.stride;
    for (let d = 0; d * ROW < height; d++) {
      const level = levels[d];
      const y = d * ROW;
      if (d <= this.focus.depth) {
        // The zoomed frame's callers span the whole width, as in pprof's and Pyroscope's flame graphs.
        let index = this.focus.index;
        for (let k = this.focus.depth; k > d; k--) { index = this.parents[k][index]; }
        this.drawNode(ctx, d, index, 0, width, y, charWidth, d < this.focus.depth);
        continue;
      }
      const end = focus.x + focus.total;
      for (let i = firstAtOrAfter(level, this.graph.stride, focus.x); i < level.length; i += stride) {
        const x = level[i];
        if (x >= end) { break; }
        const w = level[i + 1] * scale;
        if (w < 0.4) { continue; }
        this.drawNode(ctx, d, i / stride, (x - focus.x) * scale, w, y, charWidth, false);
      }
    }
    this.lastDrawMs = performance.now() - started;
  }

  /** The deepest level with a frame wide enough to draw under the zoomed frame: the canvas ends there. */
  /** @param {FlameNode} focus @param {number} scale */
  visibleDepth(focus, scale) {
    const levels = this.graph.levels;
    const stride = this.graph.stride;
    const end = focus.x + focus.total;
    let deepest = this.focus.depth;
    for (let d = this.focus.depth + 1; d < levels.length; d++) {
      const level = levels[d];
      let found = false;
      for (let i = firstAtOrAfter(level, this.graph.stride, focus.x); i < level.length && level[i] < end; i += stride) {
        if (level[i + 1] * scale >= 0.4) { found = true; break; }
      }
      if (!found) { break; }
      deepest = d;
    }
    return deepest;
  }

  /**
   * @param {CanvasRenderingContext2D} ctx
   * @param {number} depth
   * @param {number} index
   * @param {number} px
   * @param {number} w
   * @param {number} y
   * @param {number} charWidth
   * @param {boolean} isCaller
   */
  drawNode(ctx, depth, index, px, w, y, charWidth, isCaller) {
    const level = this.graph.levels[depth];
    const i = index * this.graph.stride;
    const name = this.graph.names[level[i + 3]];
    const matched = this.matches !== null && this.matches[depth][index] === 1;
    ctx.fillStyle = this.colorOf(name, level, i, matched);
    ctx.globalAlpha = isCaller ? 0.6 : 1;
    ctx.fillRect(px, y, Math.max(w - 0.5, 0.5), ROW - 1);
    ctx.globalAlpha = 1;
    if (this.selected && this.selected.depth === depth && this.selected.index === index) {
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 2;
      ctx.strokeRect(px + 1, y + 1, Math.max(w - 2.5, 1), ROW - 3);
    }
    if (w > 24) {
      const chars = Math.floor((w - 6) / charWidth);
      const label = name.length <= chars ? name : name.slice(0, Math.max(chars - 1, 1)) + '…';
      ctx.fillStyle = this.matches && !matched ? '#777' : '#111';
      ctx.fillText(label, px + 3, y + ROW / 2);
    }
  }

  /**
   * @param {string} name
   * @param {number[]} level
   * @param {number} i
   * @param {boolean} matched
   */
  colorOf(name, level, i, matched) {
    if (this.matches) {
      if (matched) { return '#e07be0'; }
      return '#e3e3e3';
    }
    if (this.graph.diff) { return diffColor(name, level[i + 1], level[i + 4], this.maxDelta); }
    let color = this.colorCache.get(name);
    if (!color) {
      color = frameColor(name);
      this.colorCache.set(name, color);
    }
    return color;
  }

  /**
   * The node under a point of the canvas, in client coordinates.
   * @param {number} clientX
   * @param {number} clientY
   * @returns {Place | null}
   */
  hitTest(clientX, clientY) {
    if (!this.graph) { return null; }
    const rect = this.canvas.getBoundingClientRect();
    const px = clientX - rect.left;
    const depth = Math.floor((clientY - rect.top) / ROW);
    if (depth < 0 || depth >= this.graph.levels.length || clientY > rect.bottom) { return null; }
    if (depth <= this.focus.depth) {
      let index = this.focus.index;
      for (let k = this.focus.depth; k > depth; k--) { index = this.parents[k][index]; }
      return { depth, index };
    }
    const focus = this.node(this.focus.depth, this.focus.index);
    const x = focus.x + (px / this.width()) * focus.total;
    const level = this.graph.levels[depth];
    const i = firstAtOrAfter(level, this.graph.stride, x);
    if (i < level.length && level[i] <= x && x < level[i] + level[i + 1] && x < focus.x + focus.total) {
      return { depth, index: i / this.graph.stride };
    }
    return null;
  }

  /**
   * Where a frame is drawn, in client coordinates (the first visible one with that name, shallowest first).
   * @param {string} name
   */
  rectOf(name) {
    const rect = this.canvas.getBoundingClientRect();
    const focus = this.node(this.focus.depth, this.focus.index);
    const scale = this.width() / focus.total;
    for (let d = this.focus.depth + 1; d < this.graph.levels.length; d++) {
      const level = this.graph.levels[d];
      for (let i = 0; i < level.length; i += this.graph.stride) {
        if (this.graph.names[level[i + 3]] === name && level[i] >= focus.x && level[i] < focus.x + focus.total) {
          return { x: rect.left + (level[i] - focus.x) * scale, y: rect.top + d * ROW, width: level[i + 1] * scale, height: ROW };
        }
      }
    }
    return null;
  }

  /** @param {MouseEvent} e */
  onClick(e) {
    const hit = this.hitTest(e.clientX, e.clientY);
    if (hit) { this.zoomTo(hit.depth, hit.index); }
  }

  /** @param {MouseEvent} e */
  onMove(e) {
    const hit = this.hitTest(e.clientX, e.clientY);
    this.setHover(hit, e);
  }

  /** @param {Place | null} hit @param {MouseEvent} e */
  setHover(hit, e) {
    if (this.options.onHover) { this.options.onHover(hit ? this.node(hit.depth, hit.index) : null, e); }
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (!this.graph) { return; }
    const s = this.selected || { ...this.focus };
    const stride = this.graph.stride;
    /** @type {Place | null} */
    let next = null;
    switch (e.key) {
      case 'ArrowUp':
        if (s.depth > 0) { next = { depth: s.depth - 1, index: this.parents[s.depth][s.index] }; }
        break;
      case 'ArrowDown': {
        const level = this.graph.levels[s.depth + 1];
        if (level) {
          const node = this.node(s.depth, s.index);
          const i = firstAtOrAfter(level, this.graph.stride, node.x);
          if (i < level.length && level[i] < node.x + node.total) { next = { depth: s.depth + 1, index: i / stride }; }
        }
        break;
      }
      case 'ArrowLeft':
      case 'ArrowRight': {
        const index = s.index + (e.key === 'ArrowLeft' ? -1 : 1);
        const level = this.graph.levels[s.depth];
        if (index >= 0 && index * stride < level.length && s.depth > this.focus.depth) {
          const focus = this.node(this.focus.depth, this.focus.index);
          const x = level[index * stride];
          if (x >= focus.x && x < focus.x + focus.total) { next = { depth: s.depth, index }; }
        }
        break;
      }
      case 'Enter':
      case ' ':
        this.zoomTo(s.depth, s.index);
        e.preventDefault();
        return;
      case 'Escape':
        this.reset();
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    if (next) { this.select(next.depth, next.index); }
  }
}
