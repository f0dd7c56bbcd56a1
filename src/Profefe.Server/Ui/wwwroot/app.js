// @ts-check
// The profefe web UI: Explore (services over time), Profile (flame graph + top table) and Compare (diff).
// Every view's state lives in the URL hash, so a link reloads to the same view; each page is a module.
import { renderCompare } from './compare.js';
import { el, main, setStatus, showError, tooltip } from './dom.js';
import { renderExplore } from './explore.js';
import { renderProfile } from './profile.js';
import { route } from './route.js';

/** @type {Record<string, string>} */
const TITLES = { profile: 'Profile', compare: 'Compare' };
let generation = 0;

/** Shows the page the URL names; a page still loading when the URL changes stops (current() turns false). */
async function render() {
  const gen = ++generation;
  const current = () => gen === generation;
  const { page, params } = route();
  tooltip.hidden = true;
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.getAttribute('data-page') === page) { a.setAttribute('aria-current', 'page'); } else { a.removeAttribute('aria-current'); }
  }
  document.title = `profefe · ${page}`;
  if (main.dataset.page !== page) {
    // Another page was shown: clear it now, so a failure below is not shown under that page's content.
    main.dataset.page = page;
    main.replaceChildren(el('h1', { text: TITLES[page] || 'Explore' }));
  }
  try {
    if (page === 'profile') { await renderProfile(params, current); } else if (page === 'compare') { await renderCompare(params, current); } else { await renderExplore(params, current); }
  } catch (error) {
    if (current()) {
      setStatus('');
      showError(main, error);
    }
  }
}

window.addEventListener('hashchange', render);
render();
