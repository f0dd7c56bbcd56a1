using Profefe.Core.Profiles;
using Profefe.Core.Storage.Segments;

namespace Profefe.Core.Tests.Storage.Segments;

public sealed class SegmentBuilderTests
{
    [Fact]
    public void Build_Profiles_AreBackToBackAtTheirOffsetsAndNamedInTheFooter()
    {
        var now = DateTime.UtcNow;
        (ProfileId Id, ReadOnlyMemory<byte> Data)[] profiles =
            [(ProfileId.NewId(now), new byte[] { 1, 2, 3 }), (ProfileId.NewId(now), Array.Empty<byte>()), (ProfileId.NewId(now), new byte[] { 4, 5 })];

        var (data, offsets) = SegmentBuilder.Build(profiles);

        Assert.Equal([0L, 3, 3], offsets);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, data[..5]);
        var footer = SegmentBuilder.ReadFooter(data);
        Assert.Equal(profiles.Select(static p => p.Id), footer.Select(static e => e.Id));
        Assert.Equal([3, 0, 2], footer.Select(static e => e.Length));
        Assert.Equal(offsets, footer.Select(static e => e.Offset));
    }

    [Fact]
    public void ReadFooter_NotASegment_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => SegmentBuilder.ReadFooter(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 }));
    }
}
