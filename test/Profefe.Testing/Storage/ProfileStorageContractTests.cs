using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Testing.Storage;

/// <summary>
/// What every storage backend must do, in profefe's semantics. A backend's test class derives from this and
/// opens a fresh, empty store per test; the same facts then run on the embedded store, S3 + PostgreSQL, ….
/// </summary>
public abstract class ProfileStorageContractTests : IAsyncLifetime
{
    protected static readonly DateTime BaseTime = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc).AddTicks(1234567);

    private readonly List<ProfileStorageUnderTest> _opened = [];
    private ProfileStorageUnderTest? _storage;

    protected ProfileStorageUnderTest Storage => _storage ?? throw new InvalidOperationException("not initialized");

    protected IProfileWriter Writer => Storage.Writer;

    protected IProfileReader Reader => Storage.Reader;

    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    protected static readonly TenantId TenantA = TenantId.Parse("team-a");

    protected static readonly TenantId TenantB = TenantId.Parse("team-b");

    /// <summary>Whether the backend keeps tenants apart; a layout that cannot holds the default tenant only and says so itself.</summary>
    protected virtual bool KeepsTenants => true;

    /// <summary>Opens a new, empty store.</summary>
    protected abstract Task<ProfileStorageUnderTest> OpenAsync();

    /// <summary>
    /// Closes <paramref name="storage"/> (as a process exit would) and opens the same data again with a new
    /// instance. Both results are disposed after the test, the newest first.
    /// </summary>
    protected abstract Task<ProfileStorageUnderTest> ReopenAsync(ProfileStorageUnderTest storage);

    public async ValueTask InitializeAsync()
    {
        _storage = await OpenAsync();
        _opened.Add(_storage);
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _opened.Count - 1; i >= 0; i--)
        {
            if (_opened[i].Owner is { } owner)
            {
                await owner.DisposeAsync();
            }
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task WriteProfile_ThenListProfiles_ReturnsMetaAndBytesVerbatim()
    {
        var meta = Meta("api", ProfileType.Cpu, BaseTime, ("region", "eu"), ("instance", "a-1"), ("region", "us"));
        var data = RandomBytes(9_709);

        await Writer.WriteProfileAsync(meta, data, Token);

        var stored = Assert.Single(await ListAsync(meta.ProfileId));
        AssertMeta(meta, stored.Meta);
        Assert.Equal(data, stored.Data.ToArray());
    }

    [Fact]
    public async Task WriteProfile_TraceAndEmptyBytes_AreStoredOpaque()
    {
        var trace = Meta("api", ProfileType.Trace, BaseTime);
        var traceBytes = "go 1.21 trace\0\0\0not pprof"u8.ToArray();
        var empty = Meta("api", ProfileType.Other, BaseTime.AddSeconds(1));

        await Writer.WriteProfileAsync(trace, traceBytes, Token);
        await Writer.WriteProfileAsync(empty, ReadOnlyMemory<byte>.Empty, Token);

        var stored = await ListAsync(trace.ProfileId, empty.ProfileId);
        Assert.Equal(2, stored.Count);
        Assert.Equal(traceBytes, stored[0].Data.ToArray());
        Assert.Equal(ProfileType.Trace, stored[0].Meta.Type);
        Assert.True(stored[1].Data.IsEmpty);
    }

    [Fact]
    public async Task WriteProfile_LargeProfile_RoundTripsByteIdentical()
    {
        var meta = Meta("big", ProfileType.Heap, BaseTime, ("size", "large"));
        var data = RandomBytes(3 * 1024 * 1024 + 17);

        await Writer.WriteProfileAsync(meta, data, Token);

        var stored = Assert.Single(await ListAsync(meta.ProfileId));
        Assert.True(data.AsSpan().SequenceEqual(stored.Data.Span));
    }

    [Fact]
    public async Task WriteProfile_UnicodeServiceAndLabels_RoundTrip()
    {
        var meta = Meta("dienst-ü/日本", ProfileType.Cpu, BaseTime, ("schlüssel", "wert=1,2"), ("emoji", "🔥"), ("empty", ""));

        await Writer.WriteProfileAsync(meta, RandomBytes(100), Token);

        AssertMeta(meta, Assert.Single(await ListAsync(meta.ProfileId)).Meta);
        var found = await FindAsync(new ProfileQuery("dienst-ü/日本", null, [new Label("emoji", "🔥"), new Label("empty", "")], DateTime.MinValue, DateTime.MaxValue));
        AssertMeta(meta, Assert.Single(found));
        Assert.Equal(["dienst-ü/日本"], await Reader.ListServicesAsync(TenantId.Default, Token));
    }

    [Fact]
    public async Task WriteProfile_ManyConcurrentWriters_StoresEveryProfile()
    {
        var written = new List<(ProfileMeta Meta, byte[] Data)>();
        for (var i = 0; i < 400; i++)
        {
            written.Add((Meta("busy", ProfileType.Cpu, BaseTime.AddMilliseconds(i * 7), ("writer", (i % 8).ToString(System.Globalization.CultureInfo.InvariantCulture))), RandomBytes(2_000 + i)));
        }

        // 16 writers at once, as concurrent HTTP requests would call the store.
        await Parallel.ForEachAsync(written, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Token }, async (item, ct) =>
            await Writer.WriteProfileAsync(item.Meta, item.Data, ct));

        var stored = await ListAsync([.. written.Select(w => w.Meta.ProfileId)]);
        Assert.Equal(written.Count, stored.Count);
        for (var i = 0; i < written.Count; i++)
        {
            AssertMeta(written[i].Meta, stored[i].Meta);
            Assert.Equal(written[i].Data, stored[i].Data.ToArray());
        }

        var found = await FindAsync(new ProfileQuery("busy", ProfileType.Cpu, [new Label("writer", "3")], DateTime.MinValue, DateTime.MaxValue));
        Assert.Equal(50, found.Count);
    }

    [Fact]
    public async Task ListProfiles_UnknownIds_AreSkippedAndOrderIsAsAsked()
    {
        var first = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime));
        var second = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime.AddSeconds(1)));
        var unknown = ProfileId.NewId(BaseTime);

        var stored = await ListAsync(second.ProfileId, unknown, first.ProfileId);

        Assert.Equal([second.ProfileId, first.ProfileId], stored.Select(s => s.Meta.ProfileId));
        Assert.Empty(await ListAsync(unknown));
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task FindProfiles_ByService_ReturnsOnlyThatServiceAscendingByCreatedAt()
    {
        var late = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime.AddMinutes(2)));
        var early = await WriteAsync(Meta("api", ProfileType.Heap, BaseTime));
        await WriteAsync(Meta("api-2", ProfileType.Cpu, BaseTime.AddMinutes(1)));
        await WriteAsync(Meta("ap", ProfileType.Cpu, BaseTime.AddMinutes(1)));
        var middle = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime.AddMinutes(1)));

        var found = await FindAsync(new ProfileQuery("api", null, [], DateTime.MinValue, DateTime.MaxValue));

        AssertIds([early, middle, late], found);
        AssertMeta(early, found[0]);
    }

    [Fact]
    public async Task FindProfiles_ByType_ReturnsOnlyThatType()
    {
        var cpu1 = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime));
        await WriteAsync(Meta("api", ProfileType.Heap, BaseTime.AddSeconds(1)));
        await WriteAsync(Meta("other", ProfileType.Cpu, BaseTime.AddSeconds(1)));
        var cpu2 = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime.AddSeconds(2)));

        AssertIds([cpu1, cpu2], await FindAsync(new ProfileQuery("api", ProfileType.Cpu, [], DateTime.MinValue, DateTime.MaxValue)));
        Assert.Empty(await FindAsync(new ProfileQuery("api", ProfileType.Mutex, [], DateTime.MinValue, DateTime.MaxValue)));
    }

    [Fact]
    public async Task FindProfiles_UnknownService_ReturnsNothing()
    {
        await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime));

        Assert.Empty(await FindAsync(new ProfileQuery("nope", null, [], DateTime.MinValue, DateTime.MaxValue)));
        Assert.Empty(await FindAsync(new ProfileQuery("API", null, [], DateTime.MinValue, DateTime.MaxValue)));
    }

    [Fact]
    public async Task FindProfiles_LabelFilter_ReturnsEveryMatch_WhenUploadOrderDiffersFromCreatedAt()
    {
        // The contract's case where profefe's Badger merge-join dropped cpu_2: uploaded out of time order.
        var cpu2 = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddMinutes(4), ("region", "europe-west3"), ("host", "b")));
        var cpu1 = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddMinutes(1), ("region", "europe-west3"), ("host", "a")));
        var heap1 = await WriteAsync(Meta("svc", ProfileType.Heap, BaseTime.AddMinutes(3), ("region", "europe-west3")));
        var heap2 = await WriteAsync(Meta("svc", ProfileType.Heap, BaseTime.AddMinutes(2), ("region", "europe-west3")));
        await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddMinutes(2), ("region", "us-east1")));
        await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddMinutes(5)));

        var region = new Label("region", "europe-west3");
        AssertIds([cpu1, cpu2], await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, [region], DateTime.MinValue, DateTime.MaxValue)));
        AssertIds([cpu1, heap2, heap1, cpu2], await FindAsync(new ProfileQuery("svc", null, [region], DateTime.MinValue, DateTime.MaxValue)));
        AssertIds([heap2, heap1], await FindAsync(new ProfileQuery("svc", ProfileType.Heap, [region], DateTime.MinValue, DateTime.MaxValue)));
    }

    [Fact]
    public async Task FindProfiles_SeveralLabels_RequiresEveryOne()
    {
        var both = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime, ("region", "eu"), ("version", "1.2")));
        await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(1), ("region", "eu"), ("version", "1.3")));
        await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(2), ("region", "us"), ("version", "1.2")));
        await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(3), ("version", "1.2")));
        var all3 = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(4), ("host", "h"), ("region", "eu"), ("version", "1.2")));

        var labels = new[] { new Label("version", "1.2"), new Label("region", "eu") };
        AssertIds([both, all3], await FindAsync(new ProfileQuery("svc", null, labels, DateTime.MinValue, DateTime.MaxValue)));
        AssertIds([both, all3], await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, [.. labels, labels[0]], DateTime.MinValue, DateTime.MaxValue)));
        Assert.Empty(await FindAsync(new ProfileQuery("svc", null, [.. labels, new Label("host", "other")], DateTime.MinValue, DateTime.MaxValue)));
        Assert.Empty(await FindAsync(new ProfileQuery("svc", null, [new Label("region", "EU")], DateTime.MinValue, DateTime.MaxValue)));
    }

    [Fact]
    public async Task FindProfiles_DuplicateLabelKeys_MatchEveryValue()
    {
        var twoZones = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime, ("zone", "a"), ("zone", "b")));
        var zoneA = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(1), ("zone", "a")));
        var repeated = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(2), ("zone", "b"), ("zone", "b")));

        AssertIds([twoZones, zoneA], await FindAsync(new ProfileQuery("svc", null, [new Label("zone", "a")], DateTime.MinValue, DateTime.MaxValue)));
        AssertIds([twoZones], await FindAsync(new ProfileQuery("svc", null, [new Label("zone", "a"), new Label("zone", "b")], DateTime.MinValue, DateTime.MaxValue)));
        var zoneB = await FindAsync(new ProfileQuery("svc", null, [new Label("zone", "b")], DateTime.MinValue, DateTime.MaxValue));
        AssertIds([twoZones, repeated], zoneB);
        AssertMeta(repeated, zoneB[1]);
    }

    [Fact]
    public async Task FindProfiles_TimeBounds_AreInclusiveAtFullPrecision()
    {
        var at = BaseTime.AddTicks(5_000_001);
        var profile = await WriteAsync(Meta("svc", ProfileType.Cpu, at, ("k", "v")));
        await WriteAsync(Meta("svc", ProfileType.Cpu, at.AddSeconds(-10)));
        await WriteAsync(Meta("svc", ProfileType.Cpu, at.AddSeconds(10)));

        foreach (var labels in new Label[][] { [], [new Label("k", "v")] })
        {
            AssertIds([profile], await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, labels, at, at)));
            AssertIds([profile], await FindAsync(new ProfileQuery("svc", null, labels, at.AddTicks(-1), at.AddTicks(1))));
            Assert.Empty(await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, labels, at.AddTicks(1), at.AddSeconds(5))));
            Assert.Empty(await FindAsync(new ProfileQuery("svc", null, labels, at.AddSeconds(-5), at.AddTicks(-1))));
        }

        // The wire shows seconds, but a "to" at the whole second before the profile excludes it (as in profefe).
        var truncated = new DateTime(at.Ticks - (at.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        Assert.Empty(await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, [], at.AddSeconds(-5), truncated)));
    }

    [Fact]
    public async Task FindProfiles_FromAfterTo_ReturnsNothing()
    {
        await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime));

        Assert.Empty(await FindAsync(new ProfileQuery("svc", null, [], BaseTime.AddSeconds(1), BaseTime.AddSeconds(-1))));
    }

    [Fact]
    public async Task FindProfiles_Limit_KeepsMostRecentStillAscending()
    {
        var metas = new List<ProfileMeta>();
        // Written newest first so that insertion order cannot pass for time order.
        for (var i = 9; i >= 0; i--)
        {
            metas.Insert(0, await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(i), ("parity", (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture)))));
        }

        AssertIds(metas[7..], await FindAsync(new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue, Limit: 3)));
        AssertIds(metas, await FindAsync(new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue, Limit: 100)));
        AssertIds(metas, await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, [], DateTime.MinValue, DateTime.MaxValue, Limit: 0)));
        AssertIds([metas[5], metas[7], metas[9]], await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, [new Label("parity", "1")], DateTime.MinValue, DateTime.MaxValue, Limit: 3)));
        AssertIds([metas[2], metas[3]], await FindAsync(new ProfileQuery("svc", null, [], BaseTime, BaseTime.AddSeconds(3), Limit: 2)));
    }

    [Fact]
    public async Task FindProfiles_EqualCreatedAt_OrderedById()
    {
        var ids = new[] { IdWithCounter(3), IdWithCounter(1), IdWithCounter(2) };
        foreach (var id in ids)
        {
            await Writer.WriteProfileAsync(new ProfileMeta(id, ProfileType.Cpu, "svc", [new Label("k", "v")], BaseTime), RandomBytes(10), Token);
        }

        var expected = ids.Order().ToArray();
        Assert.Equal(expected, (await FindAsync(new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue))).Select(m => m.ProfileId));
        Assert.Equal(expected, (await FindAsync(new ProfileQuery("svc", null, [new Label("k", "v")], DateTime.MinValue, DateTime.MaxValue))).Select(m => m.ProfileId));
        Assert.Equal(expected[1..], (await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, [], DateTime.MinValue, DateTime.MaxValue, Limit: 2))).Select(m => m.ProfileId));
    }

    [Fact]
    public async Task ListServices_ReturnsEachServiceOnceSortedOrdinally()
    {
        Assert.Empty(await Reader.ListServicesAsync(TenantId.Default, Token));
        foreach (var service in new[] { "b-svc", "B-svc", "a", "b-svc", "äpfel", "a" })
        {
            await WriteAsync(Meta(service, ProfileType.Cpu, BaseTime));
        }

        Assert.Equal(["B-svc", "a", "b-svc", "äpfel"], await Reader.ListServicesAsync(TenantId.Default, Token));
    }

    [Fact]
    public async Task ListLabels_ReturnsKeysAndDistinctValuesSorted()
    {
        await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime, ("region", "us"), ("host", "h2")));
        await WriteAsync(Meta("api", ProfileType.Heap, BaseTime.AddSeconds(1), ("region", "eu"), ("host", "h1"), ("region", "us")));
        await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime.AddSeconds(2)));
        await WriteAsync(Meta("db", ProfileType.Cpu, BaseTime, ("region", "ap"), ("Zone", "z")));

        var api = await Reader.ListLabelsAsync(TenantId.Default, "api", Token);
        Assert.Equal(["host", "region"], api.Select(l => l.Key));
        Assert.Equal(["h1", "h2"], api[0].Values);
        Assert.Equal(["eu", "us"], api[1].Values);

        var all = await Reader.ListLabelsAsync(TenantId.Default, null, Token);
        Assert.Equal(["Zone", "host", "region"], all.Select(l => l.Key));
        Assert.Equal(["ap", "eu", "us"], all[2].Values);

        Assert.Empty(await Reader.ListLabelsAsync(TenantId.Default, "unknown", Token));
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_RemovesThemFromFindListServicesAndLabels()
    {
        var cutoff = BaseTime.AddDays(-5);
        var old1 = await WriteAsync(Meta("gone", ProfileType.Cpu, cutoff.AddHours(-1), ("version", "old")));
        var old2 = await WriteAsync(Meta("mixed", ProfileType.Cpu, cutoff.AddTicks(-1), ("version", "old"), ("region", "eu")));
        var atCutoff = await WriteAsync(Meta("mixed", ProfileType.Cpu, cutoff, ("version", "new"), ("region", "eu")));
        var recent = await WriteAsync(Meta("mixed", ProfileType.Heap, BaseTime, ("version", "new")));

        var deleted = await Storage.Retention.DeleteProfilesStoredBeforeAsync(cutoff, Token);

        Assert.Equal(2, deleted);
        Assert.Empty(await ListAsync(old1.ProfileId, old2.ProfileId));
        AssertIds([atCutoff, recent], [.. (await ListAsync(old1.ProfileId, atCutoff.ProfileId, old2.ProfileId, recent.ProfileId)).Select(s => s.Meta)]);
        Assert.Empty(await FindAsync(new ProfileQuery("gone", null, [], DateTime.MinValue, DateTime.MaxValue)));
        AssertIds([atCutoff, recent], await FindAsync(new ProfileQuery("mixed", null, [], DateTime.MinValue, DateTime.MaxValue)));
        Assert.Empty(await FindAsync(new ProfileQuery("mixed", null, [new Label("version", "old")], DateTime.MinValue, DateTime.MaxValue)));
        AssertIds([atCutoff], await FindAsync(new ProfileQuery("mixed", ProfileType.Cpu, [new Label("region", "eu")], DateTime.MinValue, DateTime.MaxValue)));
        Assert.Equal(["mixed"], await Reader.ListServicesAsync(TenantId.Default, Token));
        var labels = await Reader.ListLabelsAsync(TenantId.Default, "mixed", Token);
        Assert.Equal(["region", "version"], labels.Select(l => l.Key));
        Assert.Equal(["new"], labels[1].Values);
        Assert.Empty(await Reader.ListLabelsAsync(TenantId.Default, "gone", Token));

        Assert.Equal(0, await Storage.Retention.DeleteProfilesStoredBeforeAsync(cutoff, Token));
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_ManyProfiles_DeletesEveryOne()
    {
        var old = Enumerable.Range(0, 1_234)
            .Select(i => Meta("svc", (ProfileType)(1 + (i % 7)), BaseTime.AddDays(-10).AddSeconds(i), ("n", (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture))))
            .ToList();
        await Parallel.ForEachAsync(old, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Token }, async (meta, ct) =>
            await Writer.WriteProfileAsync(meta, RandomBytes(64), ct));
        var kept = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime, ("n", "1")));

        Assert.Equal(old.Count, await Storage.Retention.DeleteProfilesStoredBeforeAsync(BaseTime.AddDays(-1), Token));

        AssertIds([kept], await FindAsync(new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue)));
        var labels = Assert.Single(await Reader.ListLabelsAsync(TenantId.Default, "svc", Token));
        Assert.Equal(["1"], labels.Values);
    }

    [Fact]
    public async Task WriteProfile_AfterRetentionEmptiedService_ServiceComesBack()
    {
        await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddDays(-30), ("k", "v")));
        await Storage.Retention.DeleteProfilesStoredBeforeAsync(BaseTime, Token);
        Assert.Empty(await Reader.ListServicesAsync(TenantId.Default, Token));
        Assert.Empty(await Reader.ListLabelsAsync(TenantId.Default, null, Token));

        var again = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime, ("k", "v")));

        Assert.Equal(["svc"], await Reader.ListServicesAsync(TenantId.Default, Token));
        AssertIds([again], await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, [new Label("k", "v")], DateTime.MinValue, DateTime.MaxValue)));
        Assert.Equal(["v"], Assert.Single(await Reader.ListLabelsAsync(TenantId.Default, "svc", Token)).Values);
    }

    [Fact]
    public async Task Reopen_KeepsProfilesServicesAndLabels()
    {
        var meta = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime, ("k", "v")));
        var data = RandomBytes(5_000);
        var second = Meta("svc2", ProfileType.Heap, BaseTime.AddSeconds(1));
        await Writer.WriteProfileAsync(second, data, Token);

        var reopened = await ReopenAsync(Storage);
        _opened.Add(reopened);
        _storage = reopened;

        Assert.Equal(["svc", "svc2"], await Reader.ListServicesAsync(TenantId.Default, Token));
        AssertIds([meta], await FindAsync(new ProfileQuery("svc", ProfileType.Cpu, [new Label("k", "v")], DateTime.MinValue, DateTime.MaxValue)));
        var stored = Assert.Single(await ListAsync(second.ProfileId));
        Assert.Equal(data, stored.Data.ToArray());
        var third = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(2), ("k", "v")));
        AssertIds([meta, third], await FindAsync(new ProfileQuery("svc", null, [new Label("k", "v")], DateTime.MinValue, DateTime.MaxValue)));
    }

    [Fact]
    public async Task Tenants_FindListServicesAndLabels_SeeOnlyTheTenantsOwnProfiles()
    {
        if (!KeepsTenants)
        {
            return;
        }

        var ofA = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime, ("region", "eu")) with { Tenant = TenantA });
        var ofB = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime.AddSeconds(1), ("region", "us")) with { Tenant = TenantB });
        var onlyA = await WriteAsync(Meta("billing", ProfileType.Heap, BaseTime, ("region", "ap")) with { Tenant = TenantA });
        var ofDefault = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime.AddSeconds(2), ("region", "eu")));
        var all = new ProfileQuery("api", null, [], DateTime.MinValue, DateTime.MaxValue);

        var foundByB = await Reader.FindProfilesAsync(TenantB, all, Token);
        AssertIds([ofB], foundByB);
        Assert.Equal(TenantB, foundByB[0].Tenant);
        AssertIds([ofA], await Reader.FindProfilesAsync(TenantA, all, Token));
        AssertIds([ofDefault], await FindAsync(all));
        Assert.Empty(await Reader.FindProfilesAsync(TenantB, new ProfileQuery("api", ProfileType.Cpu, [new Label("region", "eu")], DateTime.MinValue, DateTime.MaxValue), Token));
        Assert.Empty(await Reader.FindProfilesAsync(TenantB, new ProfileQuery("billing", null, [], DateTime.MinValue, DateTime.MaxValue), Token));

        // By id, another tenant's profile is as unknown as one that never existed; the owner gets it with its tenant.
        Assert.Empty(await ListAsync(TenantB, ofA.ProfileId, onlyA.ProfileId, ofDefault.ProfileId));
        Assert.Empty(await ListAsync(ofA.ProfileId, ofB.ProfileId));
        var own = Assert.Single(await ListAsync(TenantA, ofB.ProfileId, ofA.ProfileId));
        AssertMeta(ofA, own.Meta);
        Assert.Equal(TenantA, own.Meta.Tenant);

        Assert.Equal(["api"], await Reader.ListServicesAsync(TenantB, Token));
        Assert.Equal(["api", "billing"], await Reader.ListServicesAsync(TenantA, Token));
        Assert.Equal(["api"], await Reader.ListServicesAsync(TenantId.Default, Token));
        Assert.Empty(await Reader.ListServicesAsync(TenantId.Parse("nobody"), Token));
        Assert.Equal(["us"], Assert.Single(await Reader.ListLabelsAsync(TenantB, null, Token)).Values);
        Assert.Equal(["us"], Assert.Single(await Reader.ListLabelsAsync(TenantB, "api", Token)).Values);
        Assert.Empty(await Reader.ListLabelsAsync(TenantB, "billing", Token));
        Assert.Equal(["ap", "eu"], Assert.Single(await Reader.ListLabelsAsync(TenantA, null, Token)).Values);
        Assert.Equal(["eu"], Assert.Single(await Reader.ListLabelsAsync(TenantId.Default, null, Token)).Values);
    }

    [Fact]
    public async Task Tenants_Retention_DeletesOldProfilesOfEveryTenant_AndKeepsEachTenantsCounts()
    {
        if (!KeepsTenants)
        {
            return;
        }

        var cutoff = BaseTime.AddDays(-5);
        var oldA = await WriteAsync(Meta("api", ProfileType.Cpu, cutoff.AddHours(-1), ("k", "v")) with { Tenant = TenantA });
        var oldB = await WriteAsync(Meta("api", ProfileType.Cpu, cutoff.AddHours(-1), ("k", "v")) with { Tenant = TenantB });
        var recentA = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime, ("k", "v")) with { Tenant = TenantA });

        Assert.Equal(2, await Storage.Retention.DeleteProfilesStoredBeforeAsync(cutoff, Token));

        Assert.Empty(await ListAsync(TenantA, oldA.ProfileId));
        Assert.Empty(await ListAsync(TenantB, oldB.ProfileId));
        AssertIds([recentA], [.. (await ListAsync(TenantA, recentA.ProfileId)).Select(p => p.Meta)]);
        Assert.Empty(await Reader.ListServicesAsync(TenantB, Token));
        Assert.Empty(await Reader.ListLabelsAsync(TenantB, null, Token));
        Assert.Empty(await Reader.FindProfilesAsync(TenantB, new ProfileQuery("api", null, [new Label("k", "v")], DateTime.MinValue, DateTime.MaxValue), Token));
        Assert.Equal(["api"], await Reader.ListServicesAsync(TenantA, Token));
        Assert.Equal(["v"], Assert.Single(await Reader.ListLabelsAsync(TenantA, "api", Token)).Values);
        AssertIds([recentA], await Reader.FindProfilesAsync(TenantA, new ProfileQuery("api", null, [new Label("k", "v")], DateTime.MinValue, DateTime.MaxValue), Token));
    }

    [Fact]
    public async Task Tenants_Reopen_KeepsEachProfilesTenant()
    {
        if (!KeepsTenants)
        {
            return;
        }

        var ofA = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime, ("k", "v")) with { Tenant = TenantA });

        var reopened = await ReopenAsync(Storage);
        _opened.Add(reopened);
        _storage = reopened;

        Assert.Empty(await FindAsync(new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue)));
        Assert.Equal(TenantA, Assert.Single(await ListAsync(TenantA, ofA.ProfileId)).Meta.Tenant);
        Assert.Equal(["svc"], await Reader.ListServicesAsync(TenantA, Token));
        var third = await WriteAsync(Meta("svc", ProfileType.Cpu, BaseTime.AddSeconds(1), ("k", "v")) with { Tenant = TenantA });
        AssertIds([ofA, third], await Reader.FindProfilesAsync(TenantA, new ProfileQuery("svc", null, [new Label("k", "v")], DateTime.MinValue, DateTime.MaxValue), Token));
    }

    protected static ProfileMeta Meta(string service, ProfileType type, DateTime createdAt, params (string Key, string Value)[] labels) =>
        new(ProfileId.NewId(createdAt), type, service, [.. labels.Select(l => new Label(l.Key, l.Value))], createdAt);

    protected static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        return data;
    }

    protected async Task<ProfileMeta> WriteAsync(ProfileMeta meta)
    {
        await Writer.WriteProfileAsync(meta, RandomBytes(128), Token);
        return meta;
    }

    protected Task<IReadOnlyList<ProfileMeta>> FindAsync(ProfileQuery query) => Reader.FindProfilesAsync(TenantId.Default, query, Token);

    protected Task<List<StoredProfile>> ListAsync(params ProfileId[] ids) => ListAsync(TenantId.Default, ids);

    protected async Task<List<StoredProfile>> ListAsync(TenantId tenant, params ProfileId[] ids)
    {
        var result = new List<StoredProfile>();
        await foreach (var profile in Reader.ListProfilesAsync(tenant, ids, Token))
        {
            result.Add(profile);
        }

        return result;
    }

    protected static void AssertMeta(ProfileMeta expected, ProfileMeta actual)
    {
        Assert.Equal(expected.ProfileId, actual.ProfileId);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Service, actual.Service);
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(DateTimeKind.Utc, actual.CreatedAt.Kind);
    }

    protected static void AssertIds(IReadOnlyList<ProfileMeta> expected, IReadOnlyList<ProfileMeta> actual) =>
        Assert.Equal(expected.Select(m => m.ProfileId.ToString()), actual.Select(m => m.ProfileId.ToString()));

    private static ProfileId IdWithCounter(byte counter)
    {
        var bytes = ProfileId.NewId(BaseTime).ToBytes();
        bytes[9] = 0;
        bytes[10] = 0;
        bytes[11] = counter;
        return ProfileId.FromBytes(bytes);
    }
}
