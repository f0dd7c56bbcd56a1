// @ts-check
// The top table's rows and their order, apart from the page so they can be tested without a browser.

/**
 * The server's table (see Profefe.Core.Views.TopTable): rows are [name, file, flat, cum] or, for a diff,
 * [name, file, flat, cum, baseFlat, baseCum] with flat and cum the new side.
 * @typedef {{ total: number, baseTotal?: number, rows: [string, string, number, number, number?, number?][] }} Top
 */

/**
 * One row with every sortable column.
 * @typedef {{ name: string, file: string, flat: number, cum: number, baseFlat: number, baseCum: number,
 *   flatPct: number, cumPct: number, deltaFlat: number, deltaFlatPct: number, deltaCum: number }} TopRow
 */

/** @typedef {Exclude<keyof TopRow, 'file'>} SortKey */

/**
 * @param {Top} top
 * @returns {TopRow[]}
 */
export function topRows(top) {
  return top.rows.map((r) => {
    const [name, file, flat, cum] = r;
    const baseFlat = r[4] || 0;
    const baseCum = r[5] || 0;
    return { name, file, flat, cum, baseFlat, baseCum, flatPct: flat, cumPct: cum, deltaFlat: flat - baseFlat, deltaFlatPct: flat - baseFlat, deltaCum: cum - baseCum };
  });
}

/** @param {TopRow} a @param {TopRow} b */
function byName(a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; }

/**
 * The table's order for a column, as the server orders rows (go tool pprof -top's order): by the column (absolute
 * for changes and for flat and cum, which only a diff's change makes negative), ties by name, then by absolute cum
 * (of the change, for a diff). The default column, flat (Δ flat for a diff) descending, is the server's order.
 * @param {SortKey} key
 * @param {boolean} desc
 * @param {boolean} diff
 * @returns {(a: TopRow, b: TopRow) => number}
 */
export function compareRows(key, desc, diff) {
  const cum = diff ? 'deltaCum' : 'cum';
  return (a, b) => {
    const c = key === 'name' ? byName(a, b) : Math.abs(a[key]) - Math.abs(b[key]);
    return (desc ? -c : c) || byName(a, b) || (Math.abs(b[cum]) - Math.abs(a[cum]));
  };
}
