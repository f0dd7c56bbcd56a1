using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Segments;
using Profefe.Core.Tenancy;
using Profefe.Storage.Postgres;
using Profefe.Storage.S3;
using Profefe.Testing;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests.Storage;

/// <summary>"S3 + PostgreSQL" as the server composes it: the PostgreSQL index keeping the bytes in an S3 bucket.</summary>
[Collection(S3PostgresTests.Name)]
public sealed class S3PostgresStorageTests(PostgresServerFixture postgres, CephRgwServerFixture rgw)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteProfile_PutsBytesInTheBucket_AndOnlyTheIndexInPostgres()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.Open();
        var meta = Meta(DateTime.UtcNow, ("k", "v"));
        var data = RandomBytes(4_321);

        await storage.WriteProfileAsync(meta, data, Token);

        Assert.Equal(data, await store.Blobs.GetAsync(Key(meta), Token));
        Assert.Equal(1, await store.CountRowsAsync("profiles"));
        Assert.Equal(0, await store.CountRowsAsync("profile_data"));
        Assert.Equal(data, Assert.Single(await ListAsync(storage, meta.ProfileId)).Data.ToArray());
    }

    [Fact]
    public async Task WriteProfile_BucketMissing_Answers503NamingS3AndLeavesNoIndexRow()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require(), static o => o.Bucket = "missing-" + Guid.NewGuid().ToString("N")[..8]);
        await using var storage = store.Open();
        var meta = Meta(DateTime.UtcNow);

        var exception = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(meta, RandomBytes(100), Token));

        Assert.Equal("s3", exception.Dependency);
        Assert.Equal(0, await store.CountRowsAsync("profiles"));
        Assert.Empty(await storage.ListServicesAsync(TenantId.Default, Token));
        var notReady = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.CheckReadyAsync(Token));
        Assert.Equal("s3", notReady.Dependency);
    }

    [Fact]
    public async Task WriteProfile_PostgresUnreachable_Answers503NamingPostgresAndPutsNoObject()
    {
        using var blobs = new S3ProfileBlobStore(await CephTestBucket.CreateAsync(rgw.Require()));
        await using var storage = new PostgresProfileStorage(
            new PostgresStorageOptions { ConnectionString = $"Host=127.0.0.1;Port={FreePort.Next()};Database=postgres;Username=postgres", ConnectTimeout = TimeSpan.FromSeconds(2) },
            null,
            blobs);
        var meta = Meta(DateTime.UtcNow);

        var exception = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(meta, RandomBytes(100), Token));

        Assert.Equal("postgres", exception.Dependency);
        Assert.Null(await blobs.GetAsync(Key(meta), Token));
        Assert.Equal("postgres", (await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.CheckReadyAsync(Token))).Dependency);
    }

    [Fact]
    public async Task Requests_RgwKilledThenRestarted_Answer503NamingS3ThenRecover()
    {
        var pg = postgres.Require();
        rgw.Require();
        // Its own RGW: killing the shared one would fail the tests running beside this one.
        CephRgwServer server;
        try
        {
            server = await CephRgwServer.StartAsync();
        }
        catch (InvalidOperationException exception)
        {
            ExternalDependency.Unavailable($"could not start Ceph RGW: {exception.Message}");
            return;
        }

        await using (server)
        {
            await using var store = await S3PostgresTestStore.CreateAsync(pg, server);
            await using var storage = store.Open();
            var before = Meta(DateTime.UtcNow);
            var beforeData = RandomBytes(1_000);
            await storage.WriteProfileAsync(before, beforeData, Token);

            await server.KillRgwAsync();

            var during = Meta(DateTime.UtcNow.AddSeconds(1));
            var write = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(during, RandomBytes(10), Token));
            Assert.Equal("s3", write.Dependency);
            var read = await Assert.ThrowsAsync<StorageUnavailableException>(() => ListAsync(storage, before.ProfileId));
            Assert.Equal("s3", read.Dependency);
            // The index alone still answers finds.
            var found = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
            Assert.Equal([before.ProfileId], found.Select(m => m.ProfileId));

            await server.RestartRgwAsync();

            var after = Meta(DateTime.UtcNow.AddSeconds(2));
            await storage.WriteProfileAsync(after, RandomBytes(10), Token);
            found = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
            Assert.Equal([before.ProfileId, after.ProfileId], found.Select(m => m.ProfileId));
            Assert.Equal(beforeData, Assert.Single(await ListAsync(storage, before.ProfileId)).Data.ToArray());
        }
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_DeletesTheObjectsOfDeletedRows()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.Open(retentionBatch: 3);
        var now = DateTime.UtcNow;
        var old = Enumerable.Range(0, 7).Select(i => Meta(now.AddHours(-3).AddSeconds(i))).ToList();
        var recent = Meta(now);
        foreach (var meta in old.Append(recent))
        {
            await storage.WriteProfileAsync(meta, RandomBytes(50), Token);
        }

        Assert.Equal(7, await storage.DeleteProfilesStoredBeforeAsync(now.AddHours(-1), Token));

        Assert.All(await store.Blobs.GetManyAsync([.. old.Select(Key)], Token), Assert.Null);
        Assert.NotNull(await store.Blobs.GetAsync(Key(recent), Token));
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_DeletesOrphanObjects_AndKeepsIndexedOnes()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.Open();
        // A crash between the put and the index insert: bytes that no index row points at.
        var orphan = new ProfileKey(TenantId.Default, ProfileId.NewId(DateTime.UtcNow));
        await store.Blobs.PutAsync(orphan, RandomBytes(10), Token);
        // Objects are stamped by the server with the time of the write, i.e. now, so only a cutoff a little ahead
        // makes both objects "written before" it. The kept profile arrived within the cutoff's second but after it
        // (its id says so): the listing does consider its object, and the index row must save it.
        var second = DateTime.UtcNow.AddSeconds(10);
        var arrival = new DateTime(second.Ticks - (second.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        var kept = new ProfileMeta(ProfileId.NewId(arrival), ProfileType.Cpu, "svc", [], arrival.AddMilliseconds(900));
        await storage.WriteProfileAsync(kept, RandomBytes(10), Token);
        var cutoff = arrival.AddMilliseconds(500);

        Assert.Equal(0, await storage.DeleteProfilesStoredBeforeAsync(cutoff, Token));

        Assert.Null(await store.Blobs.GetAsync(orphan, Token));
        Assert.NotNull(await store.Blobs.GetAsync(Key(kept), Token));
        Assert.Single(await ListAsync(storage, kept.ProfileId));
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_OrphanYoungerThanCutoff_IsKept()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.Open();
        var orphan = new ProfileKey(TenantId.Default, ProfileId.NewId(DateTime.UtcNow));
        await store.Blobs.PutAsync(orphan, RandomBytes(10), Token);

        await storage.DeleteProfilesStoredBeforeAsync(DateTime.UtcNow.AddMinutes(-1), Token);

        // It may be a write whose index row is still on its way.
        Assert.NotNull(await store.Blobs.GetAsync(orphan, Token));
    }

    [Fact]
    public async Task RetentionPass_PeriodZero_StillDeletesOrphanSegments()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require(), s3 => s3.OrphanMinAge = TimeSpan.Zero);
        await using var storage = store.OpenBatched();
        var meta = new ProfileMeta(ProfileId.NewId(DateTime.UtcNow), ProfileType.Cpu, "svc", [], DateTime.UtcNow);
        await storage.WriteProfileAsync(meta, RandomBytes(10), Token);
        // A collector killed between the PUT and the index commit: a segment object no row names.
        var orphan = SegmentId.NewId(DateTime.UtcNow.AddSeconds(-5));
        await store.Segments.PutAsync(orphan, RandomBytes(10), Token);
        await Task.Delay(TimeSpan.FromSeconds(1.5), Token);
        using var retention = new ProfileRetentionService(storage, Options.Create(new RetentionOptions { Period = TimeSpan.Zero }), TimeProvider.System, NullLogger<ProfileRetentionService>.Instance);

        Assert.Equal(0, await retention.RunOnceAsync(Token));

        // Profiles are kept forever, but what the crash left is not.
        Assert.Single(await ListAsync(storage, meta.ProfileId));
        var left = new List<SegmentId>();
        await foreach (var page in store.Segments.ListAsync(null, DateTime.MaxValue, Token))
        {
            left.AddRange(page);
        }

        Assert.DoesNotContain(orphan, left);
        Assert.Single(left);
    }

    [Fact]
    public async Task SegmentListing_ObjectNamedEarlierButWrittenLate_EndsThePassBeforeIt()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        var now = DateTime.UtcNow;
        // The late one's id was made first, but its PUT landed after the other's (queued, slow, or after its client
        // gave up), so only the bucket's write time tells that it is too young to judge.
        var late = SegmentId.NewId(now.AddMinutes(-2));
        var early = SegmentId.NewId(now.AddMinutes(-1));
        await store.Segments.PutAsync(early, RandomBytes(10), Token);
        await Task.Delay(TimeSpan.FromSeconds(2), Token);
        var between = DateTime.UtcNow.AddMilliseconds(-500);
        await store.Segments.PutAsync(late, RandomBytes(10), Token);

        var listed = new List<SegmentId>();
        await foreach (var page in store.Segments.ListAsync(null, between, Token))
        {
            listed.AddRange(page);
        }

        // A sweep that resumes after what it was given would otherwise never list the late one again.
        Assert.Empty(listed);
        await foreach (var page in store.Segments.ListAsync(null, DateTime.UtcNow.AddSeconds(5), Token))
        {
            listed.AddRange(page);
        }

        Assert.Equal([late, early], listed);
    }

    [Fact]
    public async Task ListProfiles_ManyProfiles_FetchesConcurrentlyInTheOrderAsked()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require(), static o => o.MaxConcurrentRequests = 4);
        await using var storage = store.Open();
        var written = Enumerable.Range(0, 40).Select(i => (Meta: Meta(DateTime.UtcNow.AddMilliseconds(i)), Data: RandomBytes(100 + i))).ToList();
        await Parallel.ForEachAsync(written, Token, async (item, ct) => await storage.WriteProfileAsync(item.Meta, item.Data, ct));
        var asked = written.Select(w => w.Meta.ProfileId).Reverse().ToArray();

        var stored = await ListAsync(storage, asked);

        Assert.Equal(asked, stored.Select(s => s.Meta.ProfileId));
        Assert.All(stored, s => Assert.Equal(written.Single(w => w.Meta.ProfileId == s.Meta.ProfileId).Data, s.Data.ToArray()));
    }

    [Fact]
    public async Task ListProfiles_RowsWrittenByPostgresAlone_StillRead()
    {
        // A database that held the bytes itself before object storage was configured keeps serving them.
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        var inPostgres = Meta(DateTime.UtcNow);
        var pgData = RandomBytes(30);
        await using (var alone = new PostgresProfileStorage(store.Postgres()))
        {
            await alone.WriteProfileAsync(inPostgres, pgData, Token);
        }

        await using var storage = store.Open();
        var inS3 = Meta(DateTime.UtcNow.AddSeconds(1));
        await storage.WriteProfileAsync(inS3, RandomBytes(40), Token);

        var stored = await ListAsync(storage, inPostgres.ProfileId, inS3.ProfileId);
        Assert.Equal([inPostgres.ProfileId, inS3.ProfileId], stored.Select(s => s.Meta.ProfileId));
        Assert.Equal(pgData, stored[0].Data.ToArray());
    }

    [Fact]
    public async Task CheckReady_BothDependenciesUp_Returns()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.Open();

        await storage.CheckReadyAsync(Token);

        Assert.Equal(0, (await storage.GetStatisticsAsync(Token)).ProfileCount);
    }

    [Fact]
    public async Task AddProfefeS3PostgresStorage_BindsBothSections()
    {
        var server = rgw.Require();
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), server);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Postgres:ConnectionString"] = store.Postgres().ConnectionString,
            ["Storage:Postgres:Schema"] = store.Schema,
            ["Storage:S3:ServiceUrl"] = server.ServiceUrl,
            ["Storage:S3:Bucket"] = store.S3.Bucket,
            ["Storage:S3:Prefix"] = "p/",
            ["Storage:S3:AccessKey"] = server.AccessKey,
            ["Storage:S3:SecretKey"] = server.SecretKey,
            ["Storage:S3:ForcePathStyle"] = "true",
            ["Storage:S3:ChecksumMode"] = "WhenRequired",
            ["Storage:S3:Timeout"] = "00:00:09",
            ["Storage:S3:MaxConcurrentRequests"] = "3",
            ["Storage:Segments:Window"] = "00:00:00.020",
        });
        builder.Services.AddProfefeS3PostgresStorage();
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<S3StorageOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(9), options.Timeout);
        Assert.Equal(3, options.MaxConcurrentRequests);
        var writer = host.Services.GetRequiredService<IProfileWriter>();
        var blobs = Assert.IsType<S3ProfileBlobStore>(Assert.IsType<PostgresProfileStorage>(writer).BlobStore);
        Assert.Same(writer, host.Services.GetRequiredService<IProfileReader>());
        Assert.Same(writer, host.Services.GetRequiredService<IProfileRetention>());
        Assert.Same(writer, host.Services.GetRequiredService<IProfileStorageStatistics>());
        Assert.Equal(TimeSpan.FromMilliseconds(20), host.Services.GetRequiredService<IOptions<GroupCommitOptions>>().Value.Window);
        var meta = Meta(DateTime.UtcNow);
        Assert.Equal("p/" + meta.ProfileId, blobs.KeyOf(Key(meta)));
        await writer.WriteProfileAsync(meta, RandomBytes(10), Token);
        // Batched: the bytes are in a segment object under the prefix, not in an object of their own.
        var segments = Assert.IsType<S3SegmentObjectStore>(Assert.IsType<PostgresProfileStorage>(writer).Segments);
        Assert.Null(await blobs.GetAsync(Key(meta), Token));
        Assert.Equal(1, await store.CountRowsAsync("segments"));
        Assert.StartsWith("p/~segments/", segments.KeyOf(SegmentId.NewId(DateTime.UtcNow)), StringComparison.Ordinal);
        Assert.Single(await ListAsync(Assert.IsType<PostgresProfileStorage>(writer), meta.ProfileId));
    }

    [Fact]
    public void AddProfefeS3PostgresStorage_WithoutBucket_FailsAtStart()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Postgres:ConnectionString"] = "Host=127.0.0.1",
        });
        builder.Services.AddProfefeS3PostgresStorage();
        using var host = builder.Build();

        var exception = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Bucket", exception.Message, StringComparison.Ordinal);
    }

    internal static async Task<List<StoredProfile>> ListAsync(PostgresProfileStorage storage, params ProfileId[] ids)
    {
        var result = new List<StoredProfile>();
        await foreach (var profile in storage.ListProfilesAsync(TenantId.Default, ids, Token))
        {
            result.Add(profile);
        }

        return result;
    }

    internal static ProfileMeta Meta(DateTime createdAt, params (string Key, string Value)[] labels) =>
        new(ProfileId.NewId(createdAt), ProfileType.Cpu, "svc", [.. labels.Select(l => new Label(l.Key, l.Value))], createdAt);

    internal static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        return data;
    }

    private static ProfileKey Key(ProfileMeta meta) => new(meta.Tenant, meta.ProfileId);
}
