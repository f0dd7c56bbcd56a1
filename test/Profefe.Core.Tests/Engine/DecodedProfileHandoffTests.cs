using Profefe.Core.Engine;
using Profefe.Core.Profiles;
using Profefe.Pprof;

namespace Profefe.Core.Tests.Engine;

public sealed class DecodedProfileHandoffTests
{
    private static readonly DateTime Now = new(2026, 12, 7, 19, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void TryOffer_DropsTheOffer_WhenItDoesNotFit()
    {
        var handoff = new DecodedProfileHandoff(100);
        var first = ProfileId.NewId(Now);
        var second = ProfileId.NewId(Now);

        Assert.True(handoff.TryOffer(first, new Profile(), 60));
        Assert.False(handoff.TryOffer(second, new Profile(), 60));

        Assert.Equal(1, handoff.Count);
        Assert.Equal(60, handoff.Bytes);
        Assert.True(handoff.HasRoom);
        Assert.Null(handoff.TryTake(second));
    }

    [Fact]
    public void Accept_False_DropsWhatItHeld_AndRefusesOffersUntilOpenedAgain()
    {
        var handoff = new DecodedProfileHandoff(100);
        var held = ProfileId.NewId(Now);
        handoff.TryOffer(held, new Profile(), 10);

        handoff.Accept(false);

        Assert.False(handoff.HasRoom);
        Assert.False(handoff.TryOffer(ProfileId.NewId(Now), new Profile(), 10));
        Assert.Null(handoff.TryTake(held));
        Assert.Equal(0, handoff.Bytes);
        handoff.Accept(true);
        Assert.True(handoff.TryOffer(ProfileId.NewId(Now), new Profile(), 10));
    }

    [Fact]
    public void TryTake_ReturnsTheOfferOnce_AndFreesItsBytes()
    {
        var handoff = new DecodedProfileHandoff(100);
        var id = ProfileId.NewId(Now);
        var profile = new Profile();
        handoff.TryOffer(id, profile, 100);
        Assert.False(handoff.HasRoom);

        Assert.Same(profile, handoff.TryTake(id));
        Assert.Null(handoff.TryTake(id));
        Assert.Equal(0, handoff.Bytes);
        Assert.True(handoff.HasRoom);
    }

    [Fact]
    public void DropPassed_DropsOffersWellBeforeTheNewestTaken_AndKeepsRecentOnes()
    {
        var handoff = new DecodedProfileHandoff(1000);
        var old = ProfileId.NewId(Now.AddMinutes(-5));
        var recent = ProfileId.NewId(Now.AddSeconds(-10));
        handoff.TryOffer(old, new Profile(), 10);
        handoff.TryOffer(recent, new Profile(), 20);

        handoff.DropPassed(ProfileId.NewId(Now));

        Assert.Null(handoff.TryTake(old));
        Assert.NotNull(handoff.TryTake(recent));
        Assert.Equal(0, handoff.Bytes);
    }

    [Fact]
    public void HasRoom_IsFalse_WhenTheCapacityIsZero()
    {
        var handoff = new DecodedProfileHandoff(0);

        Assert.False(handoff.HasRoom);
        Assert.False(handoff.TryOffer(ProfileId.NewId(Now), new Profile(), 0));
    }
}
