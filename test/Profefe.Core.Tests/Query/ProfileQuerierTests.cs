using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Core.Tests.Query;

public sealed class ProfileQuerierTests
{
    private static readonly DateTime From = new(2019, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime To = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly InMemoryProfileStore _store = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Find_Throws404NothingFound_WhenNothingMatches()
    {
        var error = await Assert.ThrowsAsync<ProfileRequestException>(() => Querier().FindProfilesAsync(TenantId.Default, Query(ProfileType.Cpu), Cancel));

        Assert.Equal((404, "nothing found"), (error.StatusCode, error.Message));
    }

    [Fact]
    public async Task MergeIds_CountsAnIdGivenTwiceTwice()
    {
        var id = await StoreAsync(ProfileType.Cpu, "collector_cpu_1.prof");

        var merged = await Querier().MergeProfilesAsync(TenantId.Default, [id, id], Cancel);

        Assert.Equal(2 * Total(ProfileDecoder.Decode(TestData.Read("profefe/collector_cpu_1.prof"))), Total(merged));
    }

    [Fact]
    public async Task MergeIds_Throws404NamingTheUnknownIds_WhenSomeAreUnknown()
    {
        var known = await StoreAsync(ProfileType.Cpu, "collector_cpu_1.prof");
        var unknown = ProfileId.NewId(DateTime.UtcNow);

        var error = await Assert.ThrowsAsync<ProfileRequestException>(() => Querier().MergeProfilesAsync(TenantId.Default, [known, unknown], Cancel));

        Assert.Equal((404, $"nothing found: unknown profile id \"{unknown}\""), (error.StatusCode, error.Message));
    }

    [Fact]
    public async Task MergeIds_Throws500LikeProfefeWithTheReason_WhenTheProfilesCannotBeMerged()
    {
        var cpu = await StoreAsync(ProfileType.Cpu, "collector_cpu_1.prof");
        var heap = await StoreAsync(ProfileType.Heap, "collector_heap_1.prof");

        var error = await Assert.ThrowsAsync<ProfileRequestException>(() => Querier().MergeProfilesAsync(TenantId.Default, [cpu, heap], Cancel));

        Assert.Equal((500, $"failed to get profile by id \"{cpu}+{heap}\": incompatible period types cpu/nanoseconds and space/bytes"), (error.StatusCode, error.Message));
    }

    [Theory]
    [InlineData(null, "can't merge profiles of unknown type")]
    [InlineData(ProfileType.Trace, "can't merge profiles of trace type")]
    public async Task MergeQuery_Throws405_ForTypesThatCannotBeMerged(ProfileType? type, string message)
    {
        var error = await Assert.ThrowsAsync<ProfileRequestException>(() => Querier().MergeProfilesAsync(TenantId.Default, Query(type), Cancel));

        Assert.Equal((405, message), (error.StatusCode, error.Message));
    }

    [Fact]
    public async Task MergeQuery_Throws400WithTheCount_WhenMoreProfilesMatchThanTheLimit()
    {
        await StoreAsync(ProfileType.Cpu, "collector_cpu_1.prof");
        await StoreAsync(ProfileType.Cpu, "collector_cpu_2.prof");
        var querier = Querier(new CollectorOptions { MaxMergeProfiles = 1 });

        var error = await Assert.ThrowsAsync<ProfileRequestException>(() => querier.MergeProfilesAsync(TenantId.Default, Query(ProfileType.Cpu), Cancel));
        var limited = await querier.MergeProfilesAsync(TenantId.Default, Query(ProfileType.Cpu) with { Limit = 1 }, Cancel);

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("bad request: merge of 2 profiles exceeds the limit of 1", error.Message, StringComparison.Ordinal);
        Assert.Equal(Total(ProfileDecoder.Decode(TestData.Read("profefe/collector_cpu_2.prof"))), Total(limited));
    }

    [Fact]
    public async Task MergeQuery_MergesEveryMatch()
    {
        await StoreAsync(ProfileType.Cpu, "collector_cpu_1.prof");
        await StoreAsync(ProfileType.Cpu, "collector_cpu_2.prof");
        await StoreAsync(ProfileType.Heap, "collector_heap_1.prof");

        var merged = await Querier().MergeProfilesAsync(TenantId.Default, Query(ProfileType.Cpu), Cancel);

        Assert.Equal(
            Total(ProfileDecoder.Decode(TestData.Read("profefe/collector_cpu_1.prof"))) + Total(ProfileDecoder.Decode(TestData.Read("profefe/collector_cpu_2.prof"))),
            Total(merged));
    }

    private static ProfileQuery Query(ProfileType? type) => new("svc1", type, [], From, To);

    private static long Total(Profile profile) => profile.Samples.Sum(s => s.Values[0]);

    private async Task<ProfileId> StoreAsync(ProfileType type, string file)
    {
        var data = TestData.Read("profefe/" + file);
        var profile = ProfileDecoder.Decode(data);
        var meta = new ProfileMeta(ProfileId.NewId(DateTime.UtcNow), type, "svc1", [], DateTime.UnixEpoch.AddTicks(profile.TimeNanos / 100));
        await _store.WriteProfileAsync(meta, data, Cancel);
        return meta.ProfileId;
    }

    private ProfileQuerier Querier(CollectorOptions? options = null) =>
        new(_store, Options.Create(options ?? new CollectorOptions()), NullLogger<ProfileQuerier>.Instance);
}
