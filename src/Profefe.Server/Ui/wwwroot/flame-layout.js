// @ts-check
// The pure part of the flame graph: the server's levels, parents, search and colours, without a canvas.

/**
 * A flame graph as the server sends it (see Profefe.Core.Views.FlameGraph): each level holds its nodes left to
 * right as stride numbers each, [x, total, self, name(, baseTotal, baseSelf)] in value units, name an index into
 * names. A diff has stride 6 and diff totals.
 * @typedef {{ levels: number[][], names: string[], stride: number, total: number, nodeCount: number,
 *   truncated: boolean, diff?: { baseTotal: number, newTotal: number } | null }} Graph
 */

/**
 * For each level, each node's parent index in the level above (the root's is -1). Children lie inside their
 * parent's span and both levels are sorted by x, so one merge pass per level finds them.
 * @param {number[][]} levels
 * @param {number} stride
 * @returns {Int32Array[]}
 */
export function parentsOf(levels, stride) {
  const parents = [new Int32Array(1).fill(-1)];
  for (let d = 1; d < levels.length; d++) {
    const upper = levels[d - 1];
    const level = levels[d];
    const found = new Int32Array(level.length / stride);
    let p = 0;
    for (let i = 0, n = 0; i < level.length; i += stride, n++) {
      const x = level[i];
      while (p + stride < upper.length && !(x >= upper[p] && x < upper[p] + upper[p + 1])) {
        p += stride;
      }
      found[n] = p / stride;
    }
    parents.push(found);
  }
  return parents;
}

/**
 * The largest change (new − base) of any node of a diff graph, the end of its colour scale; 1 when nothing changed.
 * @param {number[][]} levels
 * @param {number} stride
 */
export function maxDelta(levels, stride) {
  let max = 0;
  for (const level of levels) {
    for (let i = 0; i < level.length; i += stride) {
      // total is base + new, so new − base is total − 2 base.
      const delta = Math.abs(level[i + 1] - 2 * level[i + 4]);
      if (delta > max) { max = delta; }
    }
  }
  return max || 1;
}

/**
 * The offset in level of the first node that ends after x (binary search; nodes are sorted by x and do not overlap).
 * @param {number[]} level
 * @param {number} stride
 * @param {number} x
 */
export function firstAtOrAfter(level, stride, x) {
  let lo = 0;
  let hi = level.length / stride;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (level[mid * stride] + level[mid * stride + 1] <= x) { lo = mid + 1; } else { hi = mid; }
  }
  return lo * stride;
}

/**
 * Frames whose name contains text (case-insensitive): a 0/1 per node of each level, how many there are, and the
 * value they cover, counting a match under another match once.
 * @param {Graph} graph
 * @param {Int32Array[]} parents
 * @param {string} text
 * @returns {{ matches: Uint8Array[], frames: number, value: number }}
 */
export function searchFrames(graph, parents, text) {
  const needle = text.toLowerCase();
  const names = graph.names.map((n) => n.toLowerCase().includes(needle));
  const stride = graph.stride;
  /** @type {Uint8Array[]} */
  const matches = [];
  /** @type {Uint8Array} */
  let covered = new Uint8Array(0);
  let value = 0;
  let frames = 0;
  graph.levels.forEach((level, d) => {
    const match = new Uint8Array(level.length / stride);
    const cover = new Uint8Array(level.length / stride);
    for (let i = 0, n = 0; i < level.length; i += stride, n++) {
      const parentCovered = d > 0 && covered[parents[d][n]] === 1;
      if (names[level[i + 3]]) {
        match[n] = 1;
        frames++;
        if (!parentCovered) { value += level[i + 1]; }
      }
      cover[n] = match[n] || parentCovered ? 1 : 0;
    }
    matches.push(match);
    covered = cover;
  });
  return { matches, frames, value };
}

/**
 * A frame's colour in a plain graph: frames of one package share a hue, so a package's code reads as one block;
 * the root and "other" are grey.
 * @param {string} name
 */
export function frameColor(name) {
  const cut = name.lastIndexOf('.', name.indexOf('(') > 0 ? name.indexOf('(') : name.length);
  const key = cut > 0 ? name.slice(0, cut) : name;
  let hash = 0;
  for (let k = 0; k < key.length; k++) { hash = (hash * 31 + key.charCodeAt(k)) | 0; }
  const grey = name === 'other' || name === 'total';
  const hue = grey ? 0 : 8 + (Math.abs(hash) % 44);
  const sat = grey ? 0 : 70 + (Math.abs(hash >> 8) % 20);
  return `hsl(${hue},${sat}%,${60 + (Math.abs(hash >> 4) % 14)}%)`;
}

/**
 * A node's colour in a diff graph: red as it grew, green as it shrank, grey when it barely changed.
 * @param {string} name
 * @param {number} total base + new
 * @param {number} base
 * @param {number} max the graph's largest change (maxDelta)
 */
export function diffColor(name, total, base, max) {
  const delta = (total - base) - base;
  const strength = Math.sqrt(Math.min(Math.abs(delta) / max, 1));
  if (name === 'other' || strength < 0.02) { return '#dcdcdc'; }
  const fade = Math.round(220 - 150 * strength);
  return delta > 0 ? `rgb(235,${fade},${fade})` : `rgb(${fade},225,${fade})`;
}
