using Profefe.Core.Profiles;
using Profefe.Core.Storage.Segments;

namespace Profefe.Storage.Postgres.Tests;

public sealed class WrittenSegmentCacheTests
{
    private static readonly DateTime Now = new(2026, 12, 7, 21, 0, 0, DateTimeKind.Utc);
    private static readonly SegmentId First = SegmentId.NewId(Now);
    private static readonly SegmentId Second = SegmentId.NewId(Now);
    private static readonly SegmentId Third = SegmentId.NewId(Now);

    [Fact]
    public void TryGet_AfterAdd_ReturnsTheBytesOfThatSegmentOnly()
    {
        var cache = new WrittenSegmentCache(1_000);
        var data = Bytes(100, 1);

        cache.Add(First, data);

        Assert.True(cache.TryGet(First, 100, out var hit));
        Assert.Same(data, hit);
        Assert.False(cache.TryGet(Second, 100, out _));
        Assert.False(cache.TryGet(new SegmentId(ProfileId.NewId(Now)), 100, out _));
    }

    [Fact]
    public void TryGet_SizeOtherThanTheIndexRecorded_Misses()
    {
        var cache = new WrittenSegmentCache(1_000);
        cache.Add(First, Bytes(100, 1));

        Assert.False(cache.TryGet(First, 99, out _));
        Assert.False(cache.TryGet(First, 101, out _));
    }

    [Fact]
    public void Add_OverBudget_EvictsTheLeastRecentlyUsed()
    {
        var cache = new WrittenSegmentCache(250);
        cache.Add(First, Bytes(100, 1));
        cache.Add(Second, Bytes(100, 2));
        Assert.True(cache.TryGet(First, 100, out _));

        cache.Add(Third, Bytes(100, 3));

        Assert.True(cache.TryGet(First, 100, out var first));
        Assert.Equal(1, first[0]);
        Assert.False(cache.TryGet(Second, 100, out _));
        Assert.True(cache.TryGet(Third, 100, out var third));
        Assert.Equal(3, third[0]);
        Assert.Equal(200, cache.Bytes);
    }

    [Fact]
    public void Add_LargerThanTheBudget_KeepsNothing()
    {
        var cache = new WrittenSegmentCache(99);

        cache.Add(First, Bytes(100, 1));

        Assert.False(cache.TryGet(First, 100, out _));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void Add_SameSegmentTwice_CountsItOnce()
    {
        var cache = new WrittenSegmentCache(1_000);

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
