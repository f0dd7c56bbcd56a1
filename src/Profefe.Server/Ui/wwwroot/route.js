// @ts-check
// Every view's state lives in the URL hash ("#/page?params"), so a link reloads to the same view.

/**
 * @param {string} hash location.hash
 * @returns {{ page: string, params: URLSearchParams }}
 */
export function parseHash(hash) {
  const path = hash.replace(/^#\/?/, '');
  const q = path.indexOf('?');
  return { page: (q < 0 ? path : path.slice(0, q)) || 'explore', params: new URLSearchParams(q < 0 ? '' : path.slice(q + 1)) };
}

/** The page and params the URL shows now. */
export function route() { return parseHash(location.hash); }

/**
 * @param {string} page
 * @param {URLSearchParams} [params]
 */
export function link(page, params) { return '#/' + page + (params && params.toString() ? '?' + params.toString() : ''); }

/**
 * Records in-page state (zoom, search, sort) in the URL without reloading the view.
 * @param {URLSearchParams} params
 */
export function remember(params) {
  const { page } = route();
  history.replaceState(null, '', link(page, params));
}
