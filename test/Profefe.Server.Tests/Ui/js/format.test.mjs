// Unit tests of ../../../../src/Profefe.Server/Ui/wwwroot/format.js (run by src/Profefe.Server/Ui/check.sh).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLabels, formatTime, formatValue, labelList, parseLabels, parseTime, percent, signed, withSeconds } from '../../../../src/Profefe.Server/Ui/wwwroot/format.js';

test('formatTime_WritesProfefesLayout_InUtc', () => {
  assert.equal(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024-01-02T03:04:05');
});

test('parseTime_ReadsUtc_UnlessAZoneIsGiven', () => {
  assert.equal(parseTime('2024-01-02T03:04:05'), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(parseTime('2024-01-02T03:04:05+01:00'), Date.UTC(2024, 0, 2, 2, 4, 5));
  assert.equal(parseTime('2024-01-02T03:04:05Z'), Date.UTC(2024, 0, 2, 3, 4, 5));
});

test('parseTime_IsNaN_ForEmptyOrUnreadableText', () => {
  assert.ok(Number.isNaN(parseTime('')));
  assert.ok(Number.isNaN(parseTime(null)));
  assert.ok(Number.isNaN(parseTime('yesterday')));
});

test('formatTime_RoundTripsThroughParseTime', () => {
  const ms = Date.UTC(2031, 11, 31, 23, 59, 59);
  assert.equal(parseTime(formatTime(ms)), ms);
});

test('formatValue_ScalesNanoseconds', () => {
  assert.equal(formatValue(1_470_000_000, 'nanoseconds'), '1.47 s');
  assert.equal(formatValue(10_000_000, 'nanoseconds'), '10 ms');
  assert.equal(formatValue(1_500, 'nanoseconds'), '1.5 µs');
  assert.equal(formatValue(999, 'nanoseconds'), '999 ns');
  assert.equal(formatValue(-2_000_000_000, 'nanoseconds'), '-2 s');
});

test('formatValue_ScalesBytesByPowersOf1024', () => {
  assert.equal(formatValue(27_273_216, 'bytes'), '26.01 MB');
  assert.equal(formatValue(3 * 2 ** 30, 'bytes'), '3 GB');
  assert.equal(formatValue(1536, 'bytes'), '1.5 kB');
  assert.equal(formatValue(512, 'bytes'), '512 B');
});

test('formatValue_GroupsCounts_AndNamesOtherUnits', () => {
  assert.equal(formatValue(1234567, 'count'), '1,234,567');
  assert.equal(formatValue(12, ''), '12');
  assert.equal(formatValue(12, 'objects'), '12 objects');
});

test('percent_HasTwoDecimals_AndADashWithoutTotal', () => {
  assert.equal(percent(1, 3), '33.33%');
  assert.equal(percent(-5, 10), '-50.00%');
  assert.equal(percent(5, 0), '–');
});

test('signed_PutsPlusOnGrowthOnly', () => {
  assert.equal(signed('3 s', 3), '+3 s');
  assert.equal(signed('-3 s', -3), '-3 s');
  assert.equal(signed('0 s', 0), '0 s');
});

test('parseLabels_ReadsEncodedPairs_AndSkipsPartsWithoutEquals', () => {
  assert.deepEqual(parseLabels('dc=fra,region%3Dx=eu%2Cwest,junk'), [['dc', 'fra'], ['region=x', 'eu,west']]);
  assert.deepEqual(parseLabels(null), []);
});

test('formatLabels_IsTheInverseOfParseLabels', () => {
  const pairs = [['dc', 'fra'], ['a=b', 'c,d'], ['empty', '']];
  assert.deepEqual(parseLabels(formatLabels(pairs)), pairs);
});

test('labelList_JoinsLabelsForReading', () => {
  assert.equal(labelList([{ key: 'dc', value: 'fra' }, { key: 'host', value: 'a' }]), 'dc=fra, host=a');
  assert.equal(labelList(null), '');
});

test('withSeconds_AddsTheSecondsBrowsersLeaveOff', () => {
  assert.equal(withSeconds('2024-01-02T03:04'), '2024-01-02T03:04:00');
  assert.equal(withSeconds('2024-01-02T03:04:05'), '2024-01-02T03:04:05');
  assert.equal(withSeconds(''), '');
});
