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
        var tree = new CallTree(new FrameTable());
        tree.Add(profile, sampleIndex, isBase: false);
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
        var tree = new CallTree(new FrameTable());
        tree.Add(baseProfile, baseSampleIndex, isBase: true);
        tree.Add(newProfile, newSampleIndex, isBase: false);
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

        var children = new int[childStart[count]];
        var fill = new int[count];
        for (var node = 1; node < count; node++)
        {
            if (kept[node])
            {
                var p = parent[node];
                children[childStart[p] + fill[p]++] = node;
            }
        }

        var names = tree.Frames.Names;
        var nameOrder = new NameComparer(names, tree.Name.ToArray());
        for (var node = 0; node < count; node++)
        {
            var length = childStart[node + 1] - childStart[node];
            if (length > 1)
            {
                Array.Sort(children, childStart[node], length, nameOrder);
            }
        }

        var stride = diff is null ? PlainStride : DiffStride;
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

                Append(level, x, otherTotal, otherTotal, otherName, otherBase, otherBase, diff is not null);
                nodeCount++;
                continue;
            }

            if (!outNameIndex.TryGetValue(name[node], out var outName))
            {
                outName = outNames.Count;
                outNameIndex.Add(name[node], outName);
                outNames.Add(names[name[node]]);
            }

            Append(level, x, total[node], self[node], outName, baseTotal[node], baseSelf[node], diff is not null);
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
        for (var i = childStart[node]; i < childStart[node + 1]; i++)
        {
            keptTotal += total[children[i]];
            keptBase += baseTotal[children[i]];
        }

        return (total[node] - self[node] - keptTotal, baseTotal[node] - baseSelf[node] - keptBase);
    }

    /// <summary>
    /// The heaviest nodes such that they plus the "other" nodes they need stay within <paramref name="maxNodes"/>.
    /// A parent is never lighter than its child and was created before it, so taking ties in creation order keeps
    /// the kept set a connected tree. Keeping one more node adds at least as many nodes as it can save (one
    /// "other"), so the cost grows with the number kept and a binary search finds the most that fit.
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
        var sorted = tree.Total.ToArray();
        Array.Sort(sorted);
        var keptChildren = new long[count];
        var low = 1;
        var high = maxNodes;
        while (low < high)
        {
            var middle = low + ((high - low + 1) / 2);
            if (Cost(tree, sorted, middle, kept, keptChildren) <= maxNodes)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        Cost(tree, sorted, low, kept, keptChildren);
        return kept;
    }

    /// <summary>
    /// Marks the <paramref name="keep"/> heaviest nodes (ties in creation order) and counts them plus the "other"
    /// nodes they need. <paramref name="sorted"/> holds every node's total in ascending order.
    /// </summary>
    private static int Cost(CallTree tree, long[] sorted, int keep, bool[] kept, long[] keptChildren)
    {
        var parent = tree.Parent;
        var total = tree.Total;
        var self = tree.Self;
        var threshold = sorted[^keep];

        // Nodes heavier than the threshold all stay; of those equal to it, the first ones fill the rest.
        var ties = keep - (sorted.Length - UpperBound(sorted, threshold));
        var cost = 0;
        Array.Clear(keptChildren);
        for (var node = 0; node < total.Length; node++)
        {
            var keepNode = total[node] > threshold || (total[node] == threshold && ties-- > 0);
            kept[node] = keepNode;
            if (keepNode)
            {
                cost++;
                if (node != 0)
                {
                    keptChildren[parent[node]] += total[node];
                }
            }
        }

        for (var node = 0; node < total.Length; node++)
        {
            if (kept[node] && total[node] - self[node] - keptChildren[node] > 0)
            {
                cost++;
            }
        }

        return cost;
    }

    /// <summary>The index of the first value greater than <paramref name="value"/>.</summary>
    private static int UpperBound(long[] sorted, long value)
    {
        var low = 0;
        var high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (sorted[middle] <= value)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private sealed class NameComparer(List<string> names, int[] nodeNames) : IComparer<int>
    {
        public int Compare(int x, int y) => string.CompareOrdinal(names[nodeNames[x]], names[nodeNames[y]]);
    }
}
