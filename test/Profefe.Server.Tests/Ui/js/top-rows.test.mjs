// Unit tests of ../../../../src/Profefe.Server/Ui/wwwroot/top-rows.js (run by src/Profefe.Server/Ui/check.sh).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareRows, topRows } from '../../../../src/Profefe.Server/Ui/wwwroot/top-rows.js';

/** @param {any[]} rows */
const names = (rows) => rows.map((r) => r.name);

test('topRows_ReadsPlainRows_WithZeroBase', () => {
  const [row] = topRows({ total: 10, rows: [['main', 'main.go', 3, 10]] });
  assert.deepEqual(row, { name: 'main', file: 'main.go', flat: 3, cum: 10, baseFlat: 0, baseCum: 0, flatPct: 3, cumPct: 10, deltaFlat: 3, deltaFlatPct: 3, deltaCum: 10 });
});

test('topRows_ReadsDiffRows_WithChanges', () => {
  const [row] = topRows({ total: 40, baseTotal: 40, rows: [['a', '', 40, 45, 10, 50]] });
  assert.equal(row.deltaFlat, 30);
  assert.equal(row.deltaCum, -5);
});

test('compareRows_ByFlatDescending_IsGoPprofsOrder_NameBeforeCum', () => {
  const rows = topRows({ total: 0, rows: [['b', '', 5, 9], ['a', '', 5, 5], ['c', '', 6, 6], ['z', '', 0, 30], ['y', '', 0, 20]] });
  assert.deepEqual(names(rows.sort(compareRows('flat', true, false))), ['c', 'a', 'b', 'y', 'z']);
});

test('compareRows_Ascending_KeepsTiesByName', () => {
  const rows = topRows({ total: 0, rows: [['b', '', 5, 5], ['a', '', 5, 9], ['c', '', 6, 6]] });
  assert.deepEqual(names(rows.sort(compareRows('flat', false, false))), ['a', 'b', 'c']);
});

test('compareRows_ByName', () => {
  const rows = topRows({ total: 0, rows: [['b', '', 1, 1], ['a', '', 2, 2]] });
  assert.deepEqual(names(rows.sort(compareRows('name', false, false))), ['a', 'b']);
  assert.deepEqual(names(rows.sort(compareRows('name', true, false))), ['b', 'a']);
});

test('compareRows_DiffByChange_IsByAbsoluteChange_AsGoPprofDiffBase', () => {
  const rows = topRows({ total: 0, baseTotal: 0, rows: [['grew', '', 30, 30, 10, 10], ['shrank', '', 10, 10, 50, 50], ['same', '', 100, 100, 100, 100]] });
  assert.deepEqual(names(rows.sort(compareRows('deltaFlat', true, true))), ['shrank', 'grew', 'same']);
});

test('compareRows_TiesOnNameAndValue_GoByAbsoluteCumChange', () => {
  // Equal names only happen across separate tables; the last tie-break still has to be total.
  const rows = [{ name: 'f', cum: 1 }, { name: 'f', cum: 9 }].map((r) => ({ ...topRows({ total: 0, rows: [[r.name, '', 1, r.cum]] })[0] }));
  assert.deepEqual(rows.sort(compareRows('flat', true, false)).map((r) => r.cum), [9, 1]);
});
