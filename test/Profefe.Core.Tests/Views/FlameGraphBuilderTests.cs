using Profefe.Core.Views;

namespace Profefe.Core.Tests.Views;

public sealed class FlameGraphBuilderTests
{
    [Fact]
    public void Build_LaysOutChildrenByName_WithOffsetsInValueUnits()
    {
        var profile = ViewProfiles.Cpu(("main;work;hash", 30), ("main;alpha", 10), ("main;work", 5));

        var graph = FlameGraphBuilder.Build(profile, 1);

        Assert.Equal(45, graph.Total);
        Assert.Equal(4, graph.Stride);
        Assert.False(graph.Truncated);
        Assert.Equal(5, graph.NodeCount);
        Assert.Equal(["total"], Names(graph, 0));
        Assert.Equal(["main"], Names(graph, 1));
        Assert.Equal(["alpha", "work"], Names(graph, 2));
        Assert.Equal(["hash"], Names(graph, 3));
        var level2 = graph.Levels[2];
        Assert.Equal([0L, 10, 10, level2[3], 10, 35, 5, level2[7]], level2);
        Assert.Equal(10, graph.Levels[3][0]);
        Assert.Equal(30, graph.Levels[3][1]);
    }

    [Fact]
    public void Build_SumsWhatTheCapCutIntoOther_KeepingTheHeaviestFrames()
    {
        var profile = ViewProfiles.Cpu(("main;big", 100), ("main;small1", 2), ("main;small2", 1), ("main;small3;deeper", 1));

        var graph = FlameGraphBuilder.Build(profile, 1, maxNodes: 4);

        Assert.True(graph.Truncated);
        Assert.Equal(4, graph.NodeCount);
        Assert.Equal(["big", "other"], Names(graph, 2));
        var level2 = graph.Levels[2];
        Assert.Equal(100, level2[1]);
        Assert.Equal(100, level2[4]);
        Assert.Equal(4, level2[5]);
        Assert.Equal(2, graph.Levels.Count - 1);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(50)]
    public void Build_NeverExceedsTheCap_AndEveryLevelStillAddsUp(int maxNodes)
    {
        var samples = new List<(string, long)>();
        for (var i = 0; i < 400; i++)
        {
            samples.Add(($"main;handler{i % 7};step{i % 13};leaf{i % 31}", 1 + (i % 5)));
        }

        var profile = ViewProfiles.Cpu([.. samples]);

        var graph = FlameGraphBuilder.Build(profile, 1, maxNodes);

        Assert.True(graph.Truncated);
        Assert.InRange(graph.NodeCount, 1, maxNodes);
        var nodes = 0;
        for (var depth = 1; depth < graph.Levels.Count; depth++)
        {
            nodes += graph.Levels[depth].Length / graph.Stride;
        }

        Assert.Equal(graph.NodeCount, nodes + 1);
        // No sample ends above the leaves' level, so the first level under the root spans the whole total.
        long width = 0;
        for (var i = 0; i < graph.Levels[1].Length; i += graph.Stride)
        {
            width += graph.Levels[1][i + 1];
        }

        Assert.Equal(graph.Total, width);
    }

    [Fact]
    public void BuildDiff_KeepsBaseAndNewOnEveryNode()
    {
        var baseProfile = ViewProfiles.Cpu(("main;a", 10), ("main;b", 30));
        var newProfile = ViewProfiles.Cpu(("main;a", 40), ("main;c", 5));

        var graph = FlameGraphBuilder.BuildDiff(baseProfile, 1, newProfile, 1);

        Assert.Equal(6, graph.Stride);
        Assert.Equal(new DiffTotals(40, 45), graph.Diff);
        Assert.Equal(["a", "b", "c"], Names(graph, 2));
        var level2 = graph.Levels[2];
        // a: base 10, new 40 -> width 50, base 10.
        Assert.Equal(50, level2[1]);
        Assert.Equal(10, level2[4]);
        // b disappeared: all of its width is base.
        Assert.Equal(30, level2[7]);
        Assert.Equal(30, level2[10]);
        // c is new: no base.
        Assert.Equal(5, level2[13]);
        Assert.Equal(0, level2[16]);
    }

    [Fact]
    public void Build_Throws_WhenTheCapIsNotPositive()
    {
        var profile = ViewProfiles.Cpu(("main", 1));

        Assert.Throws<ArgumentOutOfRangeException>(() => FlameGraphBuilder.Build(profile, 1, maxNodes: 1));
    }

    [Fact]
    public void BuildSubtree_IsTheWholeGraphBelowThePath_AtOffsetZero()
    {
        var profile = ViewProfiles.Cpu(("main;work;hash", 30), ("main;alpha;hash", 10), ("main;work;sort;swap", 7), ("main;work", 5), ("side;work", 3));

        var whole = FlameGraphBuilder.Build(profile, 1);
        var sub = FlameGraphBuilder.BuildSubtree(profile, 1, ["main", "work"]);

        Assert.Equal(["work"], Names(sub, 0));
        Assert.Equal(42, sub.Total);
        Assert.Equal([0L, 42, 5], sub.Levels[0][..3]);
        Assert.Equal(["hash", "sort"], Names(sub, 1));
        Assert.Equal(["swap"], Names(sub, 2));
        Assert.Equal(4, sub.NodeCount);

        // The same frames, values and relative offsets as under main;work in the whole graph.
        var work = whole.Levels[2];
        Assert.Equal(["alpha", "work", "work"], Names(whole, 2));
        var workX = work[4];
        Assert.Equal(sub.Total, work[5]);
        var hashInWhole = whole.Levels[3];
        Assert.Equal(["hash", "hash", "sort"], Names(whole, 3));
        Assert.Equal(hashInWhole[4] - workX, sub.Levels[1][0]);
        Assert.Equal(hashInWhole[9], sub.Levels[1][5]);
    }

    [Fact]
    public void BuildSubtree_EmptyPath_IsTheWholeGraph_AndAnUnknownPathIsEmpty()
    {
        var profile = ViewProfiles.Cpu(("main;work;hash", 30), ("main;alpha", 10));

        var whole = FlameGraphBuilder.Build(profile, 1);
        var sub = FlameGraphBuilder.BuildSubtree(profile, 1, []);
        var missing = FlameGraphBuilder.BuildSubtree(profile, 1, ["main", "nothing"]);

        Assert.Equal(whole.Levels, sub.Levels);
        Assert.Equal(whole.Names, sub.Names);
        Assert.Equal(0, missing.Total);
        Assert.Single(missing.Levels);
    }

    [Fact]
    public void Build_MatchesACallTreeBuiltFrameByFrame()
    {
        // Stacks share prefixes in no particular order, recurse, and repeat: the sorted build must still merge them.
        var samples = new List<(string, long)>();
        for (var i = 0; i < 300; i++)
        {
            var stack = "main";
            for (var depth = 0; depth < 1 + (i * 7 % 9); depth++)
            {
                stack += ";f" + ((i >> depth) % 4);
            }

            samples.Add((stack, 1 + (i % 3)));
        }

        var profile = ViewProfiles.Cpu([.. samples]);

        var graph = FlameGraphBuilder.Build(profile, 1, maxNodes: 65_536);

        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (stack, value) in samples)
        {
            var path = "";
            foreach (var frame in stack.Split(';'))
            {
                path += ";" + frame;
                expected[path] = expected.GetValueOrDefault(path) + value;
            }
        }

        var actual = new Dictionary<string, long>(StringComparer.Ordinal);
        List<string[]> paths = [[""]];
        for (var depth = 1; depth < graph.Levels.Count; depth++)
        {
            var level = graph.Levels[depth];
            var above = graph.Levels[depth - 1];
            var names = new string[level.Length / graph.Stride];
            for (var i = 0; i < level.Length; i += graph.Stride)
            {
                // The parent is the node one level up whose span holds this one.
                var parent = 0;
                while (!(level[i] >= above[parent * graph.Stride] && level[i] < above[parent * graph.Stride] + above[(parent * graph.Stride) + 1]))
                {
                    parent++;
                }

                names[i / graph.Stride] = paths[depth - 1][parent] + ";" + graph.Names[(int)level[i + 3]];
                actual.Add(names[i / graph.Stride], level[i + 1]);
            }

            paths.Add(names);
        }

        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), actual.OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Count + 1, graph.NodeCount);
    }

    private static List<string> Names(FlameGraph graph, int depth)
    {
        var level = graph.Levels[depth];
        var names = new List<string>();
        for (var i = 0; i < level.Length; i += graph.Stride)
        {
            names.Add(graph.Names[(int)level[i + 3]]);
        }

        return names;
    }
}
