// @ts-check
// Pure formatting and parsing of times and values, shared by every page.

/** @param {number} n */
export function pad(n) { return String(n).padStart(2, '0'); }

/**
 * profefe's time layout, UTC: 2006-01-02T15:04:05.
 * @param {number} ms
 */
export function formatTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * A time in profefe's layout (UTC unless it names a zone) in ms; NaN when empty or unreadable.
 * @param {string | null | undefined} text
 */
export function parseTime(text) {
  if (!text) { return NaN; }
  return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : text + 'Z');
}

/**
 * A value in its unit, scaled for reading: 1.47 s, 26.01 MB, 1,234.
 * @param {number} value
 * @param {string} unit
 */
export function formatValue(value, unit) {
  const abs = Math.abs(value);
  /** @param {number} v @param {number} digits */
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

/** @param {number} value @param {number} total */
export function percent(value, total) { return total ? (value / total * 100).toFixed(2) + '%' : '–'; }

/** @param {string} text @param {number} value */
export function signed(text, value) { return value > 0 ? '+' + text : text; }

/**
 * A label filter as the URL keeps it, "k=v,k2=v2" (each part URI-encoded), as pairs.
 * @param {string | null | undefined} text
 * @returns {[string, string][]}
 */
export function parseLabels(text) {
  return (text || '').split(',').filter((s) => s.includes('=')).map((s) => {
    const i = s.indexOf('=');
    return /** @type {[string, string]} */ ([decodeURIComponent(s.slice(0, i)), decodeURIComponent(s.slice(i + 1))]);
  });
}

/**
 * Labels as a line to read: "k=v, k2=v2".
 * @param {{ key: string, value: string }[] | null | undefined} labels
 */
export function labelList(labels) { return (labels || []).map((l) => `${l.key}=${l.value}`).join(', '); }

/**
 * A datetime-local input's value with seconds: browsers leave ":00" off.
 * @param {string} value
 */
export function withSeconds(value) { return value.length === 16 ? value + ':00' : value; }

/** @param {[string, string][]} pairs */
export function formatLabels(pairs) { return pairs.map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join(','); }
