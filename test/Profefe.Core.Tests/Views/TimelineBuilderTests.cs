using Profefe.Core.Profiles;
using Profefe.Core.Views;

namespace Profefe.Core.Tests.Views;

public sealed class TimelineBuilderTests
{
    [Fact]
    public void Build_SortsByTime_AndTotalsTheDefaultSampleType()
    {
        var builder = new TimelineBuilder();
        var later = Meta(new DateTime(2026, 1, 1, 10, 5, 0, DateTimeKind.Utc));
        var earlier = Meta(new DateTime(2026, 1, 1, 10, 0, 0, DateTimeKind.Utc));

        builder.Add(later, ViewProfiles.Cpu(("main", 7), ("main;a", 3)));
        builder.Add(earlier, ViewProfiles.Cpu(("main", 20)));
        builder.Add(Meta(new DateTime(2026, 1, 1, 10, 9, 0, DateTimeKind.Utc)), null);
        var timeline = builder.Build();

        Assert.Equal("cpu", timeline.SampleType);
        Assert.Equal("nanoseconds", timeline.Unit);
        Assert.Equal([earlier, later], timeline.Points.Take(2).Select(p => p.Meta));
        Assert.Equal([20L, 10L, null], timeline.Points.Select(p => p.Total));
    }

    private static ProfileMeta Meta(DateTime createdAt) =>
        new(ProfileId.NewId(createdAt), ProfileType.Cpu, "svc", [], createdAt);
}
