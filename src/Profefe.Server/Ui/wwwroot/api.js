// @ts-check
// The collector's JSON API: profefe's envelope {code, body} or {code, error}.

/**
 * The body of a GET; null when nothing was found (404); throws with the server's error otherwise.
 * @param {string} path
 * @param {URLSearchParams} params
 * @returns {Promise<any>}
 */
export async function api(path, params) {
  const response = await fetch(path + '?' + params.toString());
  let payload = null;
  try { payload = await response.json(); } catch { payload = null; }
  if (!response.ok || !payload || payload.error) {
    if (response.status === 404) { return null; }
    throw new Error(payload && payload.error ? payload.error : `${response.status} ${response.statusText}`);
  }
  return payload.body;
}

// The shapes of the UI endpoints' bodies (src/Profefe.Server/Ui/UiEndpoints.cs, UiJson.cs).

/** @typedef {{ key: string, value: string }} Label */
/** @typedef {{ id: string, type: string, service: string, labels: Label[], created_at: string }} Meta */
/** @typedef {{ service: string, type: string, labels: Label[], from: string, to: string }} Query */

/**
 * Where a view's profiles came from: a query or ids, the profiles found, and the merged profile's download link.
 * @typedef {{ query?: Query | null, profileCount: number, metas: Meta[], ids: string[], download: string }} Source
 */

/**
 * The shown profile's sample types and the one chosen, and its header fields.
 * @typedef {{ sampleTypes: { type: string, unit: string }[], sampleIndex: number, sampleType: string, unit: string,
 *   samples: number, timeNanos: number, durationNanos: number, period: number, periodType: string,
 *   comments: string[] }} Summary
 */

/** @typedef {import('./flame-layout.js').Graph} Graph */
/** @typedef {import('./top-rows.js').Top} Top */

/** @typedef {Source & Summary & { pprofCommand: string, flame: Graph, top: Top }} ProfileBody /api/ui/profile */
/** @typedef {{ focus: string[], flame: Graph }} FlameBody /api/ui/flame */

/**
 * /api/ui/compare: each side's source and graph, the diff graph and table (summary of the new side).
 * @typedef {Summary & { base: Source & { flame: Graph }, new: Source & { flame: Graph }, pprofCommand: string,
 *   flame: Graph & { diff: { baseTotal: number, newTotal: number } }, top: Top }} CompareBody
 */

/** @typedef {{ id: string, created_at: string, type: string, labels: Label[] | null, total: number | null }} TimelinePoint */

/**
 * /api/ui/timeline: the newest profiles of a range, with their totals unless there are too many.
 * @typedef {{ points: TimelinePoint[], unit: string, sampleType: string, totals: boolean, maxTotals: number }} TimelineBody
 */

/**
 * /api/0/timeseries: totals per step of the range, one series per value of group_by; values per sample type.
 * @typedef {{ from: string, sample_types: string[], series: { group: string, values: number[][], counts: number[] }[] }} SeriesBody
 */

/** @typedef {{ service: string, type: string, created_at: string }} LatestBody /api/ui/latest */
/** @typedef {{ key: string, values: string[] }[]} LabelsBody /api/0/labels */
