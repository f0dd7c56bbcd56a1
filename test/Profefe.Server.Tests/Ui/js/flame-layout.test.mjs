// Unit tests of ../../../../src/Profefe.Server/Ui/wwwroot/flame-layout.js (run by src/Profefe.Server/Ui/check.sh).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffColor, firstAtOrAfter, frameColor, maxDelta, parentsOf, searchFrames } from '../../../../src/Profefe.Server/Ui/wwwroot/flame-layout.js';

// total(100) -> main(100) -> { a(60) -> a.b(20), b(40) }; levels of [x, total, self, name].
const graph = {
  names: ['total', 'main', 'pkg.a', 'pkg.b', 'other'],
  stride: 4,
  total: 100,
  nodeCount: 5,
  truncated: false,
  levels: [
    [0, 100, 0, 0],
    [0, 100, 0, 1],
    [0, 60, 40, 2, 60, 40, 0, 3],
    [10, 20, 20, 3],
  ],
};

test('parentsOf_FindsEachNodesParent_FromTheSpans', () => {
  const parents = parentsOf(graph.levels, graph.stride);
  assert.deepEqual(parents.map((p) => [...p]), [[-1], [0], [0, 0], [0]]);
});

test('parentsOf_PutsAChildUnderTheSecondNode_WhenItLiesInItsSpan', () => {
  const levels = [[0, 10, 0, 0], [0, 4, 4, 1, 4, 6, 0, 2], [5, 1, 1, 3]];
  assert.deepEqual([...parentsOf(levels, 4)[2]], [1]);
});

test('firstAtOrAfter_FindsTheFirstNodeEndingAfterX', () => {
  const level = graph.levels[2];
  assert.equal(firstAtOrAfter(level, 4, 0), 0);
  assert.equal(firstAtOrAfter(level, 4, 59), 0);
  assert.equal(firstAtOrAfter(level, 4, 60), 4);
  assert.equal(firstAtOrAfter(level, 4, 100), 8);
});

test('searchFrames_CountsNestedMatchesOnce', () => {
  const found = searchFrames(graph, parentsOf(graph.levels, 4), 'PKG.');
  assert.equal(found.frames, 3);
  assert.equal(found.value, 100);
  assert.deepEqual(found.matches.map((m) => [...m]), [[0], [0], [1, 1], [1]]);
});

test('searchFrames_ValueIsTheMatchesShare', () => {
  const found = searchFrames(graph, parentsOf(graph.levels, 4), 'pkg.b');
  assert.equal(found.frames, 2);
  assert.equal(found.value, 60);
});

test('maxDelta_IsTheLargestChange_OrOne', () => {
  // [x, total = base + new, self, name, baseTotal, baseSelf]
  const levels = [[0, 30, 0, 0, 10, 0], [0, 20, 20, 1, 15, 15, 20, 10, 10, 2, 0, 0]];
  assert.equal(maxDelta(levels, 6), 10);
  assert.equal(maxDelta([[0, 20, 0, 0, 10, 0]], 6), 1);
});

test('frameColor_GivesAPackageOneHue_AndGreysTheRootAndOther', () => {
  const hue = (/** @type {string} */ c) => c.slice(4, c.indexOf(','));
  assert.equal(hue(frameColor('pkg.a')), hue(frameColor('pkg.b')));
  assert.equal(frameColor('pkg.a'), frameColor('pkg.a'));
  assert.match(frameColor('other'), /^hsl\(0,0%,/);
  assert.match(frameColor('total'), /^hsl\(0,0%,/);
});

test('diffColor_IsRedForGrowth_GreenForShrinking_GreyForLittle', () => {
  assert.equal(diffColor('f', 30, 10, 10), 'rgb(235,70,70)');
  assert.equal(diffColor('f', 10, 10, 10), 'rgb(70,225,70)');
  assert.equal(diffColor('f', 20, 10, 10), '#dcdcdc');
  assert.equal(diffColor('other', 30, 10, 10), '#dcdcdc');
});
