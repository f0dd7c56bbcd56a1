// Unit tests of ../../../../src/Profefe.Server/Ui/wwwroot/range.js and route.js (run by src/Profefe.Server/Ui/check.sh).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brushRange, compareQuery, hourUpTo, olderThan, previousPeriodParams, queryParams, rangeOf, seriesStep, sideQuery, sourceParams } from '../../../../src/Profefe.Server/Ui/wwwroot/range.js';
import { link, parseHash } from '../../../../src/Profefe.Server/Ui/wwwroot/route.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0, 250);

test('rangeOf_PresetEndsAtNow_RoundedUpToTheSecond', () => {
  const range = rangeOf(new URLSearchParams('range=15m'), '', NOW);
  assert.deepEqual(range, { from: Date.UTC(2024, 4, 1, 11, 45, 1), to: Date.UTC(2024, 4, 1, 12, 0, 1) });
});

test('rangeOf_TakesExplicitFromAndTo_WithAPrefix', () => {
  const params = new URLSearchParams('base_from=2024-01-01T00:00:00&base_to=2024-01-01T06:00:00');
  assert.deepEqual(rangeOf(params, 'base_', NOW), { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 1, 6) });
});

test('rangeOf_IsTheLastHour_WhenNothingReadableIsGiven', () => {
  const range = rangeOf(new URLSearchParams('from=garbage&to=2024-01-01T00:00:00'), '', NOW);
  assert.equal(range.to - range.from, 3600e3);
  assert.equal(range.to, Date.UTC(2024, 4, 1, 12, 0, 1));
});

test('queryParams_DefaultsTheTypeToCpu_AndKeepsLabels', () => {
  const q = queryParams(new URLSearchParams('service=shop&labels=dc%3Dfra'), { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 1, 1) });
  assert.equal(q.toString(), 'service=shop&type=cpu&labels=dc%3Dfra&from=2024-01-01T00%3A00%3A00&to=2024-01-01T01%3A00%3A00');
});

test('sourceParams_SplitsIds_OnPlusCommaOrSpace', () => {
  assert.deepEqual([...sourceParams(new URLSearchParams('id=a+b,c'))], [['id', 'a'], ['id', 'b'], ['id', 'c']]);
  assert.deepEqual([...sourceParams(new URLSearchParams('base_id=x'), 'base_')], [['base_id', 'x']]);
});

test('sourceParams_WithoutIds_IsTheQueryAndItsRange', () => {
  const q = sourceParams(new URLSearchParams('service=shop&type=heap&new_from=a&new_to=b&base_from=c'), 'new_');
  assert.deepEqual([...q], [['service', 'shop'], ['type', 'heap'], ['new_from', 'a'], ['new_to', 'b']]);
});

test('compareQuery_ByIds_SendsBothSidesIds', () => {
  const q = compareQuery(new URLSearchParams('base_id=a+b&new_id=c&service=ignored'));
  assert.deepEqual([...q], [['base_id', 'a'], ['base_id', 'b'], ['new_id', 'c']]);
});

test('compareQuery_ByRanges_SendsTheQueryAndBothRanges', () => {
  const q = compareQuery(new URLSearchParams('service=shop&type=cpu&base_from=1&base_to=2&new_from=2&new_to=3&zoom=1.0'));
  assert.equal(q.toString(), 'service=shop&type=cpu&base_from=1&base_to=2&new_from=2&new_to=3');
});

test('sideQuery_DropsTheSidesPrefix', () => {
  assert.equal(sideQuery(new URLSearchParams('service=shop&base_from=1&base_to=2'), 'base_').toString(), 'service=shop&from=1&to=2');
  assert.equal(sideQuery(new URLSearchParams('new_id=a+b'), 'new_').toString(), 'id=a&id=b');
});

test('previousPeriodParams_ComparesWithTheRangeJustBefore_AsLongAsIt', () => {
  const range = { from: Date.UTC(2024, 0, 1, 1), to: Date.UTC(2024, 0, 1, 3) };
  const q = previousPeriodParams(new URLSearchParams('service=shop&type=heap&labels=dc%3Dfra'), range);
  assert.equal(q.get('base_from'), '2023-12-31T23:00:00');
  assert.equal(q.get('base_to'), '2024-01-01T01:00:00');
  assert.equal(q.get('new_from'), '2024-01-01T01:00:00');
  assert.equal(q.get('new_to'), '2024-01-01T03:00:00');
  assert.equal(q.get('labels'), 'dc=fra');
  assert.equal(q.get('type'), 'heap');
});

test('olderThan_IsASecondBeforeTheOldestShown', () => {
  assert.equal(olderThan('2024-05-01T10:00:00.123Z'), '2024-05-01T09:59:59');
  assert.equal(olderThan('2024-05-01T10:00:00Z'), '2024-05-01T09:59:59');
});

test('hourUpTo_EndsAfterTheProfilesSecond', () => {
  assert.deepEqual(hourUpTo(Date.UTC(2024, 0, 1, 10, 0, 0, 500)), { from: Date.UTC(2024, 0, 1, 9, 0, 1), to: Date.UTC(2024, 0, 1, 10, 0, 1) });
});

test('seriesStep_IsTheSmallestRoundStep_WithinTheChartsPoints', () => {
  assert.equal(seriesStep(3600e3), 60);
  assert.equal(seriesStep(24 * 3600e3), 600);
  assert.equal(seriesStep(7 * 24 * 3600e3), 3600);
  assert.equal(seriesStep(1000), 60);
});

test('seriesStep_BeyondADayAPoint_TakesWholeDays', () => {
  assert.equal(seriesStep(400 * 24 * 3600e3), 2 * 86400);
});

test('brushRange_MapsPixelsToWholeSeconds_Outwards', () => {
  const range = { from: 0, to: 100_000 };
  assert.deepEqual(brushRange(25, 50, 100, range), { from: 25_000, to: 50_000 });
  assert.deepEqual(brushRange(10.5, 54.2, 100, range), { from: 10_000, to: 55_000 });
});

test('parseHash_ReadsPageAndParams_DefaultingToExplore', () => {
  const { page, params } = parseHash('#/profile?id=a&sample_type=cpu');
  assert.equal(page, 'profile');
  assert.equal(params.get('sample_type'), 'cpu');
  assert.equal(parseHash('').page, 'explore');
  assert.equal(parseHash('#/?x=1').page, 'explore');
});

test('link_IsTheInverseOfParseHash', () => {
  const params = new URLSearchParams('base_id=a&new_id=b');
  assert.equal(link('compare', params), '#/compare?base_id=a&new_id=b');
  assert.equal(link('explore', new URLSearchParams()), '#/explore');
  assert.equal(parseHash(link('compare', params)).params.toString(), params.toString());
});
