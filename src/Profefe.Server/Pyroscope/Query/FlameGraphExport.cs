using Google.Protobuf;
using Profefe.Core.Views;
using Profefe.Server.Pyroscope.Protos.Querier;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>
/// Writes profefe's laid-out <see cref="FlameGraph"/> in Pyroscope's shapes: levels of (x offset, total, self,
/// name) with each x offset counted from the end of the node before it on the level; the diff's seven numbers per
/// node (left offset, total, self, right offset, total, self, name); and Pyroscope's serialized tree.
/// </summary>
internal static class FlameGraphExport
{
    public static Protos.Querier.FlameGraph ToMessage(Core.Views.FlameGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var message = new Protos.Querier.FlameGraph { Total = graph.Total };
        message.Names.AddRange(graph.Names);
        long maxSelf = 0;
        foreach (var values in graph.Levels)
        {
            var level = new Level();
            long end = 0;
            for (var i = 0; i < values.Length; i += graph.Stride)
            {
                level.Values.Add(values[i] - end);
                level.Values.Add(values[i + 1]);
                level.Values.Add(values[i + 2]);
                level.Values.Add(values[i + 3]);
                end = values[i] + values[i + 1];
                maxSelf = Math.Max(maxSelf, values[i + 2]);
            }

            message.Levels.Add(level);
        }

        message.MaxSelf = maxSelf;
        return message;
    }

    /// <summary>A diff graph (<see cref="FlameGraphBuilder.BuildDiff"/>: base is left, new is right).</summary>
    public static FlameGraphDiff ToDiffMessage(Core.Views.FlameGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var parents = Parents(graph);
        var leftX = new long[graph.Levels.Count][];
        var rightX = new long[graph.Levels.Count][];
        var message = new FlameGraphDiff
        {
            Total = graph.Total,
            LeftTicks = graph.Diff?.BaseTotal ?? 0,
            RightTicks = graph.Diff?.NewTotal ?? 0,
        };
        message.Names.AddRange(graph.Names);
        long maxSelf = 0;
        for (var depth = 0; depth < graph.Levels.Count; depth++)
        {
            var values = graph.Levels[depth];
            var count = values.Length / graph.Stride;
            leftX[depth] = new long[count];
            rightX[depth] = new long[count];

            // Each side is laid out on its own: a child starts where its previous sibling ends on that side.
            var nextLeft = new Dictionary<int, long>();
            var nextRight = new Dictionary<int, long>();
            var level = new Level();
            long leftEnd = 0, rightEnd = 0;
            for (var n = 0; n < count; n++)
            {
                var i = n * graph.Stride;
                var leftTotal = values[i + 4];
                var leftSelf = values[i + 5];
                var rightTotal = values[i + 1] - leftTotal;
                var rightSelf = values[i + 2] - leftSelf;
                var parent = depth == 0 ? -1 : parents[depth][n];
                long lx = 0, rx = 0;
                if (parent >= 0)
                {
                    lx = nextLeft.TryGetValue(parent, out var l) ? l : leftX[depth - 1][parent];
                    rx = nextRight.TryGetValue(parent, out var r) ? r : rightX[depth - 1][parent];
                    nextLeft[parent] = lx + leftTotal;
                    nextRight[parent] = rx + rightTotal;
                }

                leftX[depth][n] = lx;
                rightX[depth][n] = rx;
                level.Values.Add(lx - leftEnd);
                level.Values.Add(leftTotal);
                level.Values.Add(leftSelf);
                level.Values.Add(rx - rightEnd);
                level.Values.Add(rightTotal);
                level.Values.Add(rightSelf);
                level.Values.Add(values[i + 3]);
                leftEnd = lx + leftTotal;
                rightEnd = rx + rightTotal;
                maxSelf = Math.Max(maxSelf, Math.Max(leftSelf, rightSelf));
            }

            message.Levels.Add(level);
        }

        message.MaxSelf = maxSelf;
        return message;
    }

    /// <summary>
    /// Pyroscope's tree bytes: depth first from a nameless root, each node as uvarint name length, name,
    /// uvarint self, uvarint child count.
    /// </summary>
    public static ByteString ToTree(Core.Views.FlameGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.Levels.Count == 0 || graph.Total == 0)
        {
            return ByteString.Empty;
        }

        var parents = Parents(graph);
        var children = new List<int>[graph.Levels.Count][];
        for (var depth = 0; depth < graph.Levels.Count; depth++)
        {
            var count = graph.Levels[depth].Length / graph.Stride;
            children[depth] = new List<int>[count];
            for (var n = 0; n < count; n++)
            {
                children[depth][n] = [];
                if (depth > 0)
                {
                    children[depth - 1][parents[depth][n]].Add(n);
                }
            }
        }

        using var output = new MemoryStream();
        var stack = new Stack<(int Depth, int Node)>();
        stack.Push((0, 0));
        while (stack.Count > 0)
        {
            var (depth, node) = stack.Pop();
            var i = node * graph.Stride;
            var name = depth == 0 ? "" : graph.Names[(int)graph.Levels[depth][i + 3]];
            var bytes = System.Text.Encoding.UTF8.GetBytes(name);
            WriteVarint(output, (ulong)bytes.Length);
            output.Write(bytes);
            WriteVarint(output, (ulong)Math.Max(0, graph.Levels[depth][i + 2]));
            var kids = children[depth][node];
            WriteVarint(output, (ulong)kids.Count);
            for (var k = kids.Count - 1; k >= 0; k--)
            {
                stack.Push((depth + 1, kids[k]));
            }
        }

        return ByteString.CopyFrom(output.ToArray());
    }

    /// <summary>For each node below the root, the index of its parent on the level above: the node whose span holds its x.</summary>
    private static int[][] Parents(Core.Views.FlameGraph graph)
    {
        var parents = new int[graph.Levels.Count][];
        parents[0] = [-1];
        for (var depth = 1; depth < graph.Levels.Count; depth++)
        {
            var above = graph.Levels[depth - 1];
            var values = graph.Levels[depth];
            var count = values.Length / graph.Stride;
            parents[depth] = new int[count];
            var p = 0;
            for (var n = 0; n < count; n++)
            {
                var x = values[n * graph.Stride];
                while (p + 1 < above.Length / graph.Stride && above[(p + 1) * graph.Stride] <= x
                    && !(above[p * graph.Stride] <= x && x < above[p * graph.Stride] + above[(p * graph.Stride) + 1]))
                {
                    p++;
                }

                parents[depth][n] = p;
            }
        }

        return parents;
    }

    private static void WriteVarint(Stream output, ulong value)
    {
        while (value >= 0x80)
        {
            output.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        output.WriteByte((byte)value);
    }
}
