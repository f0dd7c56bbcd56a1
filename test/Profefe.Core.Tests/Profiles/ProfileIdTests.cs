using Profefe.Core.Profiles;

namespace Profefe.Core.Tests.Profiles;

public sealed class ProfileIdTests
{
    [Theory]
    [InlineData("dc38nn38di192ieigdtg")]
    [InlineData("bpc00mript33iv4net00")]
    public void Parse_RoundTrips_ProfefeIds(string text)
    {
        Assert.Equal(text, ProfileId.Parse(text).ToString());
    }

    [Theory]
    [InlineData("not-an-id!")]
    [InlineData("")]
    [InlineData("dc38nn38di192ieigdtG")]
    [InlineData("dc38nn38di192ieigdtw")]
    [InlineData("dc38nn38di192ieigdt")]
    public void TryParse_Rejects_MalformedIds(string text)
    {
        Assert.False(ProfileId.TryParse(text, out _));
    }

    [Fact]
    public void NewId_SortsAfterEarlierIds_WhenGeneratedLater()
    {
        var first = ProfileId.NewId(new DateTime(2019, 5, 30, 21, 10, 5, DateTimeKind.Utc));
        var second = ProfileId.NewId(new DateTime(2019, 5, 30, 21, 10, 5, DateTimeKind.Utc));
        Assert.True(first.CompareTo(second) < 0);
        Assert.True(string.CompareOrdinal(first.ToString(), second.ToString()) < 0);
        Assert.Equal(new DateTime(2019, 5, 30, 21, 10, 5, DateTimeKind.Utc), first.Timestamp);
    }
}
