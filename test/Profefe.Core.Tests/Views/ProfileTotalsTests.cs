using Profefe.Core.Profiles;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Core.Tests.Views;

public sealed class ProfileTotalsTests
{
    [Theory]
    [InlineData("go/cpu_hash_01.pb.gz")]
    [InlineData("go/heap_03.pb.gz")]
    [InlineData("go/goroutine_02.pb.gz")]
    [InlineData("go/mutex_01.pb.gz")]
    [InlineData("go/big_cpu_01.pb.gz")]
    public void TryRead_MatchesTheDecodedProfile_ForEverySampleType(string file)
    {
        var data = TestData.Read(file);
        var profile = ProfileDecoder.Decode(data);

        Assert.True(ProfileTotals.TryRead(data, 64L << 20, out var totals));

        Assert.Equal(profile.SampleTypes, totals!.SampleTypes);
        Assert.Equal(profile.DefaultSampleType, totals.DefaultSampleType);
        Assert.Equal(profile.PeriodType, totals.PeriodType);
        for (var i = 0; i < profile.SampleTypes.Count; i++)
        {
            Assert.Equal(SampleTypeIndex.Total(profile, i), totals.Totals[i]);
        }
    }

    [Fact]
    public void TryRead_ReadsRawProto_AsWrittenByTheEncoder()
    {
        var profile = ViewProfiles.Cpu(("main;work", 30), ("main", -5));
        profile.DefaultSampleType = "cpu";

        Assert.True(ProfileTotals.TryRead(ProfileEncoder.EncodeToArray(profile, compress: false), 1 << 20, out var totals));

        Assert.Equal([2L, 25L], totals!.Totals);
        Assert.Equal("cpu", totals.DefaultSampleType);
        Assert.Equal(profile.PeriodType, totals.PeriodType);
    }

    [Theory]
    [InlineData("not a profile at all")]
    [InlineData("\u001f\u008b broken gzip")]
    public void TryRead_IsFalse_ForWhatIsNotAProfileProto(string text)
    {
        Assert.False(ProfileTotals.TryRead(System.Text.Encoding.Latin1.GetBytes(text), 1 << 20, out _));
    }

    [Fact]
    public void TryRead_IsFalse_PastTheInflateLimit()
    {
        Assert.False(ProfileTotals.TryRead(TestData.Read("go/big_cpu_01.pb.gz"), 1024, out _));
    }

    [Fact]
    public void TimelineBuilder_AddTotals_TotalsTheTimelinesSampleType()
    {
        var builder = new TimelineBuilder("alloc_space");
        var createdAt = new DateTime(2026, 1, 1, 10, 0, 0, DateTimeKind.Utc);
        var data = TestData.Read("go/heap_01.pb.gz");
        var profile = ProfileDecoder.Decode(data);
        Assert.True(ProfileTotals.TryRead(data, 64L << 20, out var totals));

        builder.AddTotals(new ProfileMeta(ProfileId.NewId(createdAt), ProfileType.Heap, "svc", [], createdAt), totals);
        var timeline = builder.Build();

        Assert.Equal("bytes", timeline.Unit);
        Assert.Equal(SampleTypeIndex.Total(profile, SampleTypeIndex.Resolve(profile, "alloc_space")), timeline.Points[0].Total);
    }
}
