using Profefe.Core.Profiles;
using Profefe.Core.Storage.Objects;
using Profefe.Core.Storage.Segments;

namespace Profefe.Storage.Postgres.Tests;

public sealed class ImmutableBytesCacheTests
{
    private static readonly ObjectRange<string> First = new("packs/a", 0, 100);
    private static readonly ObjectRange<string> Second = new("packs/a", 100, 100);
    private static readonly ObjectRange<string> Third = new("packs/b", 0, 100);

    [Fact]
    public void TryGet_AfterAdd_ReturnsTheBytesOfThatRangeOnly()
    {
        var cache = new ImmutableBytesCache<ObjectRange<string>>(1_000);
        var data = Bytes(100, 1);

        cache.Add(First, data);

        Assert.True(cache.TryGet(First, out var hit));
        Assert.Same(data, hit);
        Assert.False(cache.TryGet(Second, out _));
        Assert.False(cache.TryGet(First with { Length = 99 }, out _));
    }

    [Fact]
    public void TryGet_SegmentOfAnotherIdOrSize_Misses()
    {
        var now = new DateTime(2026, 12, 7, 21, 0, 0, DateTimeKind.Utc);
        var segment = SegmentId.NewId(now);
        var cache = new ImmutableBytesCache<(SegmentId Id, long Size)>(1_000);

        cache.Add((segment, 100), Bytes(100, 1));

        Assert.True(cache.TryGet((segment, 100), out _));
        Assert.False(cache.TryGet((segment, 99), out _));
        Assert.False(cache.TryGet((segment, 101), out _));
        Assert.False(cache.TryGet((SegmentId.NewId(now), 100), out _));
        Assert.False(cache.TryGet((new SegmentId(ProfileId.NewId(now)), 100), out _));
    }

    [Fact]
    public void Add_OverBudget_EvictsTheLeastRecentlyUsed()
    {
        var cache = new ImmutableBytesCache<ObjectRange<string>>(250);
        cache.Add(First, Bytes(100, 1));
        cache.Add(Second, Bytes(100, 2));
        Assert.True(cache.TryGet(First, out _));

        cache.Add(Third, Bytes(100, 3));

        Assert.True(cache.TryGet(First, out var first));
        Assert.Equal(1, first[0]);
        Assert.False(cache.TryGet(Second, out _));
        Assert.True(cache.TryGet(Third, out var third));
        Assert.Equal(3, third[0]);
        Assert.Equal(200, cache.Bytes);
    }

    [Fact]
    public void Add_LargerThanTheBudget_KeepsNothing()
    {
        var cache = new ImmutableBytesCache<ObjectRange<string>>(99);

        cache.Add(First, Bytes(100, 1));

        Assert.False(cache.TryGet(First, out _));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void Add_SameKeyTwice_CountsItOnce()
    {
        var cache = new ImmutableBytesCache<ObjectRange<string>>(1_000);

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
