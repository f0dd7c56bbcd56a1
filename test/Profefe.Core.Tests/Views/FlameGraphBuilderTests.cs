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
