using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Core.Tenancy;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Core.Tests.Query;

public sealed class StoredProfileMergerTests
{
    private static readonly DateTime BaseTime = new(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly InMemoryProfileStore _store = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Merge_InParts_GivesTheBytesOfAMergeInOneThread(int parts)
    {
        var profiles = new List<Profile>();
        var ids = new List<ProfileId>();
        for (var i = 0; i < 90; i++)
        {
            var profile = ProfileDecoder.Decode(TestData.Read($"profefe/collector_cpu_{i % 3 + 1}.prof"));
            // Times that depend on the order, zeros included (a zero is kept only until a later profile has a time).
            profile.TimeNanos = i % 17 == 5 ? 0 : 1_000_000_000L * (1_000 - (i * 7 % 50));
            profile.DurationNanos = i;
            profiles.Add(profile);
            ids.Add(await StoreAsync(profile, i));
        }

        var merged = await StoredProfileMerger.MergeAsync(_store, TenantId.Default, ids, null, new ProfileDecoderOptions(), Cancel, parts);

        Assert.Equal(90, merged.Merged);
        Assert.Equal(ProfileEncoder.EncodeToArray(ProfileMerger.Merge(profiles)), ProfileEncoder.EncodeToArray(merged.Profile!));
    }

    [Fact]
    public async Task Merge_InParts_CountsRepeatedIdsAndReportsWhichWereFound()
    {
        var ids = new List<ProfileId>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await StoreAsync(ProfileDecoder.Decode(TestData.Read($"profefe/collector_cpu_{i % 3 + 1}.prof")), i));
        }

        var unknown = ProfileId.NewId(BaseTime);
        var multiplicity = ids.ToDictionary(id => id, id => id == ids[4] ? 3 : 1);
        multiplicity[unknown] = 1;

        var merged = await StoredProfileMerger.MergeAsync(_store, TenantId.Default, [.. ids, unknown], multiplicity, new ProfileDecoderOptions(), Cancel, parts: 3);

        Assert.Equal(8, merged.Merged);
        Assert.Equal(ids.ToHashSet(), merged.Found);
    }

    [Fact]
    public async Task Merge_InParts_FailsWithTheFormatError_WhenOnePartCannotMerge()
    {
        var ids = new List<ProfileId>();
        for (var i = 0; i < 40; i++)
        {
            var file = i == 33 ? "profefe/collector_heap_1.prof" : "profefe/collector_cpu_1.prof";
            ids.Add(await StoreAsync(ProfileDecoder.Decode(TestData.Read(file)), i));
        }

        await Assert.ThrowsAsync<ProfileFormatException>(
            () => StoredProfileMerger.MergeAsync(_store, TenantId.Default, ids, null, new ProfileDecoderOptions(), Cancel, parts: 2));
    }

    [Fact]
    public void PartsFor_UsesOneThread_ForSmallMerges()
    {
        Assert.Equal(1, StoredProfileMerger.PartsFor(10));
        Assert.Equal(Math.Clamp(Environment.ProcessorCount, 1, 4), StoredProfileMerger.PartsFor(1_000));
    }

    private async Task<ProfileId> StoreAsync(Profile profile, int second)
    {
        var meta = new ProfileMeta(ProfileId.NewId(BaseTime.AddSeconds(second)), ProfileType.Cpu, "svc", [], BaseTime.AddSeconds(second));
        await _store.WriteProfileAsync(meta, ProfileEncoder.EncodeToArray(profile), Cancel);
        return meta.ProfileId;
    }
}
