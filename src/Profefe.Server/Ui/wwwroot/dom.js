// @ts-check
// The page's shared DOM: building elements, the status line, the tooltip, errors.

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * An element with attributes (on* become listeners, text the text content, true an empty attribute) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs, ...children) {
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

/**
 * An element the page must have.
 * @param {string} id
 */
function required(id) {
  const node = document.getElementById(id);
  if (!node) { throw new Error('index.html has no #' + id); }
  return node;
}

export const main = required('main');
const statusLine = required('status');
export const tooltip = required('tooltip');

/** @param {string} text */
export function setStatus(text) { statusLine.textContent = text; }

/** @param {HTMLElement} container @param {unknown} error */
export function showError(container, error) {
  container.append(el('div', { class: 'error', role: 'alert', text: error instanceof Error ? error.message : String(error) }));
}

/**
 * Shows lines (the first bold) next to the pointer; null hides the tooltip.
 * @param {string[] | null} lines
 * @param {MouseEvent} e
 */
export function showTooltip(lines, e) {
  if (!lines) { tooltip.hidden = true; return; }
  tooltip.replaceChildren(...lines.map((line, i) => el(i === 0 ? 'strong' : 'div', { text: line })));
  tooltip.hidden = false;
  const x = Math.min(e.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
  const y = e.clientY + 18 + tooltip.offsetHeight > window.innerHeight ? e.clientY - tooltip.offsetHeight - 10 : e.clientY + 18;
  tooltip.style.left = x + 'px';
  tooltip.style.top = y + 'px';
}

/**
 * The value of the input or select an event came from.
 * @param {Event} e
 */
export function valueOf(e) { return /** @type {HTMLInputElement | HTMLSelectElement} */ (e.target).value; }
