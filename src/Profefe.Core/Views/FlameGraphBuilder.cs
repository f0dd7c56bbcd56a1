using System.Buffers;
using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>
/// Lays out a profile (or the diff of two) as a <see cref="FlameGraph"/> of at most <c>maxNodes</c> nodes: the
/// heaviest frames, and for each kept frame that lost children to the cap one "other" child summing them, as
/// Pyroscope does, so every level still adds up.
/// </summary>
public static class FlameGraphBuilder
{
    private const int PlainStride = 4;
    private const int DiffStride = 6;

    public static FlameGraph Build(Profile profile, int sampleIndex, int maxNodes = FlameGraph.DefaultMaxNodes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var tree = CallTree.Build(new FrameTable(), profile, sampleIndex);
        return Layout(tree, maxNodes, diff: null);
    }

    /// <summary>
    /// The part of <see cref="Build"/>'s graph under one frame, with a node cap of its own: what a capped graph
    /// summed into "other" below that frame comes back in detail. <paramref name="path"/> names the frames from
    /// the root's child down to that frame (empty is the whole graph); the result's root is that frame, at x 0.
    /// </summary>
    public static FlameGraph BuildSubtree(Profile profile, int sampleIndex, IReadOnlyList<string> path, int maxNodes = FlameGraph.DefaultMaxNodes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(path);
        var frames = new FrameTable();
        var focus = new int[path.Count];
        for (var i = 0; i < focus.Length; i++)
        {
            focus[i] = frames.Intern(path[i]);
        }

        var tree = CallTree.BuildFocused(frames, profile, sampleIndex, focus);
        return Layout(tree, maxNodes, diff: null);
    }

    /// <summary>
    /// A diff flame graph with <c>-diff_base</c> semantics: each node is as wide as base + new, and carries both
    /// sides so the browser colours it by how much it grew or shrank relative to the base total.
    /// </summary>
    public static FlameGraph BuildDiff(Profile baseProfile, int baseSampleIndex, Profile newProfile, int newSampleIndex, int maxNodes = FlameGraph.DefaultMaxNodes)
    {
        ArgumentNullException.ThrowIfNull(baseProfile);
        ArgumentNullException.ThrowIfNull(newProfile);
        var tree = CallTree.BuildDiff(new FrameTable(), baseProfile, baseSampleIndex, newProfile, newSampleIndex);
        var baseTotal = tree.BaseTotal[0];
        return Layout(tree, maxNodes, new DiffTotals(baseTotal, tree.Total[0] - baseTotal));
    }

    private static FlameGraph Layout(CallTree tree, int maxNodes, DiffTotals? diff)
    {
        // The root and one "other" below it is the smallest graph that still adds up.
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNodes, 2);
        var count = tree.Count;
        var kept = SelectKept(tree, maxNodes, out var truncated);

        // Children of kept nodes as contiguous runs (CSR), so the walk below allocates nothing per node.
        var parent = tree.Parent;
        var childStart = new int[count + 1];
        for (var node = 1; node < count; node++)
        {
            if (kept[node])
            {
                childStart[parent[node] + 1]++;
            }
        }

        for (var node = 0; node < count; node++)
        {
            childStart[node + 1] += childStart[node];
        }

        // Placing each child advances its parent's start to the next parent's; shifting back restores the starts.
        var children = new int[childStart[count]];
        for (var node = 1; node < count; node++)
        {
            if (kept[node])
            {
                children[childStart[parent[node]]++] = node;
            }
        }

        for (var node = count; node > 0; node--)
        {
            childStart[node] = childStart[node - 1];
        }

        childStart[0] = 0;

        var names = tree.Frames.Names;
        var nameOrder = new NameComparer(names, tree.NameArray);
        for (var node = 0; node < count; node++)
        {
            var length = childStart[node + 1] - childStart[node];
            if (length > 1)
            {
                Array.Sort(children, childStart[node], length, nameOrder);
            }
        }

        var isDiff = diff is not null;
        var stride = isDiff ? DiffStride : PlainStride;
        var levels = new List<List<long>>();
        var outNames = new List<string>();
        var outNameIndex = new Dictionary<int, int>();
        var otherName = -1;
        var nodeCount = 0;

        // Preorder walk with an explicit stack: it visits every depth left to right, which is the level order.
        var stack = new Stack<(int Node, int Depth, long X)>();
        stack.Push((0, 0, 0));
        var total = tree.Total;
        var self = tree.Self;
        var baseTotal = tree.BaseTotal;
        var baseSelf = tree.BaseSelf;
        var name = tree.Name;
        while (stack.Count > 0)
        {
            var (node, depth, x) = stack.Pop();
            if (depth == levels.Count)
            {
                levels.Add([]);
            }

            var level = levels[depth];
            if (node < 0)
            {
                // An "other" node: node is ~parent, x its offset; its values are what the cap removed below parent.
                var owner = ~node;
                var (otherTotal, otherBase) = DroppedBelow(owner, total, baseTotal, self, baseSelf, children, childStart);
                if (otherName < 0)
                {
                    otherName = outNames.Count;
                    outNames.Add(FlameGraph.OtherName);
                }

                Append(level, x, otherTotal, otherTotal, otherName, otherBase, otherBase, isDiff);
                nodeCount++;
                continue;
            }

            if (!outNameIndex.TryGetValue(name[node], out var outName))
            {
                outName = outNames.Count;
                outNameIndex.Add(name[node], outName);
                outNames.Add(names[name[node]]);
            }

            Append(level, x, total[node], self[node], outName, isDiff ? baseTotal[node] : 0, isDiff ? baseSelf[node] : 0, isDiff);
            nodeCount++;

            // Push right to left so the leftmost child pops first.
            var start = childStart[node];
            var end = childStart[node + 1];
            var childX = x;
            for (var i = start; i < end; i++)
            {
                childX += total[children[i]];
            }

            var droppedTotal = total[node] - self[node] - (childX - x);
            // Base values are part of the total, so nothing dropped in total means nothing dropped in base either.
            if (droppedTotal > 0)
            {
                stack.Push((~node, depth + 1, childX));
            }

            for (var i = end - 1; i >= start; i--)
            {
                childX -= total[children[i]];
                stack.Push((children[i], depth + 1, childX));
            }
        }

        var levelArrays = new long[levels.Count][];
        for (var i = 0; i < levels.Count; i++)
        {
            levelArrays[i] = [.. levels[i]];
        }

        return new FlameGraph(outNames, levelArrays, stride, total[0], nodeCount, truncated, diff);
    }

    private static void Append(List<long> level, long x, long total, long self, int name, long baseTotal, long baseSelf, bool isDiff)
    {
        level.Add(x);
        level.Add(total);
        level.Add(self);
        level.Add(name);
        if (isDiff)
        {
            level.Add(baseTotal);
            level.Add(baseSelf);
        }
    }

    private static (long Total, long Base) DroppedBelow(int node, ReadOnlySpan<long> total, ReadOnlySpan<long> baseTotal, ReadOnlySpan<long> self, ReadOnlySpan<long> baseSelf, int[] children, int[] childStart)
    {
        var keptTotal = 0L;
        var keptBase = 0L;
        var isDiff = !baseTotal.IsEmpty;
        for (var i = childStart[node]; i < childStart[node + 1]; i++)
        {
            keptTotal += total[children[i]];
            keptBase += isDiff ? baseTotal[children[i]] : 0;
        }

        return (total[node] - self[node] - keptTotal, isDiff ? baseTotal[node] - baseSelf[node] - keptBase : 0);
    }

    /// <summary>
    /// The heaviest nodes such that they plus the "other" nodes they need stay within <paramref name="maxNodes"/>.
    /// Nodes are taken heaviest first, ties in creation order: a parent is never lighter than its child and was
    /// created before it, so the kept set stays a connected tree. Keeping one more node adds itself and perhaps
    /// its own "other", and saves at most its parent's "other", so the cost never falls and the first node that
    /// would break the cap ends the selection.
    /// </summary>
    private static bool[] SelectKept(CallTree tree, int maxNodes, out bool truncated)
    {
        var count = tree.Count;
        var kept = new bool[count];
        if (count <= maxNodes)
        {
            kept.AsSpan().Fill(true);
            truncated = false;
            return kept;
        }

        truncated = true;
        var total = tree.Total;
        var self = tree.Self;
        var parent = tree.Parent;
        var candidates = Heaviest(total, maxNodes);

        // What each kept node's children carry that is not yet kept: above zero, the node needs an "other".
        var unkept = new long[count];
        var cost = 0;
        foreach (var node in candidates)
        {
            if (node != 0 && !kept[parent[node]])
            {
                // Only negative sample values can make a child outweigh its parent; such a node cannot be drawn.
                continue;
            }

            var own = total[node] - self[node];
            var delta = own > 0 ? 2 : 1;
            if (node != 0)
            {
                var before = unkept[parent[node]];
                var after = before - total[node];
                delta += (after > 0 ? 1 : 0) - (before > 0 ? 1 : 0);
                if (cost + delta > maxNodes)
                {
                    break;
                }

                unkept[parent[node]] = after;
            }
            else if (cost + delta > maxNodes)
            {
                break;
            }

            cost += delta;
            kept[node] = true;
            unkept[node] = own;
        }

        return kept;
    }

    /// <summary>
    /// The nodes that can be among the <paramref name="limit"/> heaviest (every node at least as heavy as the
    /// limit-th heaviest, so ties are all there), heaviest first, ties in creation order.
    /// </summary>
    private static int[] Heaviest(ReadOnlySpan<long> total, int limit)
    {
        var scratch = ArrayPool<long>.Shared.Rent(total.Length);
        total.CopyTo(scratch);
        var threshold = NthLargest(scratch, total.Length, limit);
        ArrayPool<long>.Shared.Return(scratch);
        var count = 0;
        foreach (var value in total)
        {
            count += value >= threshold ? 1 : 0;
        }

        // Keys are complemented so an ascending sort puts the heaviest first.
        var keys = new long[count];
        var nodes = new int[count];
        count = 0;
        for (var node = 0; node < total.Length; node++)
        {
            if (total[node] >= threshold)
            {
                keys[count] = ~total[node];
                nodes[count++] = node;
            }
        }

        Array.Sort(keys, nodes);

        // The sort is not stable: put each run of equal totals back in creation order.
        for (var start = 0; start < count;)
        {
            var end = start + 1;
            while (end < count && keys[end] == keys[start])
            {
                end++;
            }

            if (end - start > 1)
            {
                Array.Sort(nodes, start, end - start);
            }

            start = end;
        }

        return nodes;
    }

    /// <summary>The <paramref name="n"/>-th largest of the first <paramref name="length"/> <paramref name="values"/> (which it reorders), by quickselect.</summary>
    private static long NthLargest(long[] values, int length, int n)
    {
        var target = n - 1;
        var low = 0;
        var high = length - 1;
        while (low < high)
        {
            // Median of three keeps sorted or equal runs from making this quadratic.
            var middle = low + ((high - low) / 2);
            var pivot = Median(values[low], values[middle], values[high]);
            var i = low;
            var j = high;
            while (i <= j)
            {
                while (values[i] > pivot)
                {
                    i++;
                }

                while (values[j] < pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (target <= j)
            {
                high = j;
            }
            else if (target >= i)
            {
                low = i;
            }
            else
            {
                return values[target];
            }
        }

        return values[target];
    }

    private static long Median(long a, long b, long c) => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));

    private sealed class NameComparer(List<string> names, int[] nodeNames) : IComparer<int>
    {
        public int Compare(int x, int y) => string.CompareOrdinal(names[nodeNames[x]], names[nodeNames[y]]);
    }
}
