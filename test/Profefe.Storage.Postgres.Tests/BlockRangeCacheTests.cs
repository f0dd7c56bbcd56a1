using Profefe.Core.Engine;
using Profefe.Storage.Postgres.Engine;

namespace Profefe.Storage.Postgres.Tests;

public sealed class BlockRangeCacheTests
{
    private static readonly EngineObjectRange First = new("packs/a", 0, 100);
    private static readonly EngineObjectRange Second = new("packs/a", 100, 100);
    private static readonly EngineObjectRange Third = new("packs/b", 0, 100);

    [Fact]
    public void TryGet_AfterAdd_ReturnsTheBytesOfThatRangeOnly()
    {
        var cache = new BlockRangeCache(1_000);
        var data = Bytes(100, 1);

        cache.Add(First, data);

        Assert.True(cache.TryGet(First, out var hit));
        Assert.Same(data, hit);
        Assert.False(cache.TryGet(Second, out _));
        Assert.False(cache.TryGet(First with { Length = 99 }, out _));
    }

    [Fact]
    public void Add_OverBudget_EvictsTheLeastRecentlyUsed()
    {
        var cache = new BlockRangeCache(250);
        cache.Add(First, Bytes(100, 1));
        cache.Add(Second, Bytes(100, 2));
        Assert.True(cache.TryGet(First, out _));

        cache.Add(Third, Bytes(100, 3));

        Assert.True(cache.TryGet(First, out _));
        Assert.False(cache.TryGet(Second, out _));
        Assert.True(cache.TryGet(Third, out _));
        Assert.Equal(200, cache.Bytes);
    }

    [Fact]
    public void Add_LargerThanTheBudget_KeepsNothing()
    {
        var cache = new BlockRangeCache(99);

        cache.Add(First, Bytes(100, 1));

        Assert.False(cache.TryGet(First, out _));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void Add_SameRangeTwice_CountsItOnce()
    {
        var cache = new BlockRangeCache(1_000);

        cache.Add(First, Bytes(100, 1));
        cache.Add(First, Bytes(100, 1));

        Assert.Equal(100, cache.Bytes);
    }

    private static byte[] Bytes(int length, byte value)
    {
        var data = new byte[length];
        Array.Fill(data, value);
        return data;
    }
}
