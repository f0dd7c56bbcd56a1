using Microsoft.Data.Sqlite;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Storage.Local.Tests;

public sealed class LocalProfileStorageTests
{
    private static readonly DateTime BaseTime = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Open_NewDirectory_UsesWalWithFullSyncAndVersionedSchema()
    {
        await using var directory = new LocalStoreDirectory();
        var nested = Path.Combine(directory.Path, "a", "b");

        await using var storage = new LocalProfileStorage(new LocalStorageOptions { DataDirectory = nested });

        Assert.Equal("wal", storage.JournalMode);
        Assert.Equal(LocalStorageSynchronous.Full, storage.Synchronous);
        Assert.Equal(LocalStorageSynchronous.Full, new LocalStorageOptions().Synchronous);
        Assert.True(Directory.Exists(storage.SegmentDirectory));
        using var connection = OpenRaw(storage.DatabasePath);
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal((long)LocalSchema.Version, Scalar(connection, "PRAGMA user_version"));
    }

    [Fact]
    public async Task Open_SynchronousNormal_IsApplied()
    {
        await using var directory = new LocalStoreDirectory();
        var options = directory.Options();
        options.Synchronous = LocalStorageSynchronous.Normal;

        await using var storage = new LocalProfileStorage(options);

        Assert.Equal("wal", storage.JournalMode);
        Assert.Equal(LocalStorageSynchronous.Normal, storage.Synchronous);
        var meta = Meta("svc", BaseTime);
        await storage.WriteProfileAsync(meta, new byte[] { 7 }, Token);
        Assert.Equal(new byte[] { 7 }, Assert.Single(await ListAsync(storage, meta.ProfileId)).Data.ToArray());
    }

    [Fact]
    public async Task Open_DirectoryAlreadyOpen_IsRefused()
    {
        await using var directory = new LocalStoreDirectory();
        await using var first = new LocalProfileStorage(directory.Options());

        var error = Assert.Throws<StorageUnavailableException>(() => new LocalProfileStorage(directory.Options()));

        Assert.Equal("local", error.Dependency);
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_NewerSchemaVersion_IsRefused()
    {
        await using var directory = new LocalStoreDirectory();
        using (var connection = OpenRaw(Path.Combine(directory.Path, LocalProfileStorage.DatabaseFileName)))
        {
            Scalar(connection, "PRAGMA user_version = 99");
        }

        var error = Assert.Throws<StorageUnavailableException>(() => new LocalProfileStorage(directory.Options()));

        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_FileIsNotADatabase_IsRefused()
    {
        await using var directory = new LocalStoreDirectory();
        await File.WriteAllTextAsync(Path.Combine(directory.Path, LocalProfileStorage.DatabaseFileName), "this is not a database, just text that is long enough", Token);

        var error = Assert.Throws<StorageUnavailableException>(() => new LocalProfileStorage(directory.Options()));

        Assert.Equal("local", error.Dependency);
    }

    [Fact]
    public async Task Dispose_WithWritesQueued_FinishesThemAll()
    {
        await using var directory = new LocalStoreDirectory();
        var storage = new LocalProfileStorage(directory.Options());
        var metas = Enumerable.Range(0, 300).Select(i => Meta("svc", BaseTime.AddSeconds(i))).ToList();
        var writes = metas.Select(meta => storage.WriteProfileAsync(meta, new byte[1000], Token)).ToList();

        await storage.DisposeAsync();

        await Task.WhenAll(writes);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.WriteProfileAsync(Meta("svc", BaseTime), new byte[1], Token));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.ListServicesAsync(TenantId.Default, Token));
        await using var reopened = new LocalProfileStorage(directory.Options());
        var found = await reopened.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal(metas.Select(m => m.ProfileId), found.Select(m => m.ProfileId));
    }

    [Fact]
    public async Task WriteProfile_DuplicateId_FailsAloneAndKeepsTheFirst()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        var meta = Meta("svc", BaseTime);
        await storage.WriteProfileAsync(meta, new byte[] { 1, 2, 3 }, Token);

        // Queued together, so that the duplicate shares a group commit with good writes.
        var others = Enumerable.Range(1, 20).Select(i => Meta("svc", BaseTime.AddSeconds(i))).ToList();
        var writes = others.Select(m => storage.WriteProfileAsync(m, new byte[] { 4 }, Token)).ToList();
        var duplicate = storage.WriteProfileAsync(meta with { Service = "other" }, new byte[] { 9 }, Token);
        writes.AddRange(others.Select(m => storage.WriteProfileAsync(m with { ProfileId = ProfileId.NewId(BaseTime) }, new byte[] { 5 }, Token)));

        await Assert.ThrowsAsync<InvalidOperationException>(() => duplicate);
        await Task.WhenAll(writes);
        var stored = await ListAsync(storage, meta.ProfileId);
        Assert.Equal(new byte[] { 1, 2, 3 }, Assert.Single(stored).Data.ToArray());
        Assert.Equal("svc", stored[0].Meta.Service);
        Assert.Equal(["svc"], await storage.ListServicesAsync(TenantId.Default, Token));
        Assert.Equal(41, (await storage.GetStatisticsAsync(Token)).ProfileCount);
    }

    [Fact]
    public async Task WriteProfile_CanceledBeforeCommit_StoresNothing()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        var meta = Meta("svc", BaseTime);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => storage.WriteProfileAsync(meta, new byte[] { 1 }, new CancellationToken(canceled: true)));

        Assert.Empty(await ListAsync(storage, meta.ProfileId));
        Assert.Empty(await storage.ListServicesAsync(TenantId.Default, Token));
    }

    [Fact]
    public async Task WriteProfile_DiskFull_FailsAsUnavailableAndLeavesNothingBehind()
    {
        await using var directory = new LocalStoreDirectory();
        var options = directory.Options();
        options.MaxDataBytes = 64 * 1024;
        await using var storage = new LocalProfileStorage(options);
        var small = Meta("svc", BaseTime, ("k", "v"));
        await storage.WriteProfileAsync(small, new byte[100], Token);

        var big = Meta("svc", BaseTime.AddSeconds(1), ("k", "big"));
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(big, new byte[1024 * 1024], Token));

        Assert.Equal("local", error.Dependency);
        Assert.Empty(await ListAsync(storage, big.ProfileId));
        Assert.Equal(["v"], Assert.Single(await storage.ListLabelsAsync(TenantId.Default, "svc", Token)).Values);
        var found = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal([small.ProfileId], found.Select(m => m.ProfileId));
        // The store keeps working once there is room again.
        await storage.WriteProfileAsync(Meta("svc", BaseTime.AddSeconds(2)), new byte[100], Token);
        Assert.Equal(2, (await storage.GetStatisticsAsync(Token)).ProfileCount);
    }

    [Fact]
    public async Task WriteProfile_IndexFullAmidConcurrentWrites_StoresExactlyTheAcknowledgedOnes()
    {
        await using var directory = new LocalStoreDirectory();
        var options = directory.Options();
        options.MaxPageCount = 96;
        options.MaxBatchProfiles = 4;
        var metas = Enumerable.Range(0, 300)
            .Select(i => i % 50 == 7
                ? Meta("svc", BaseTime.AddSeconds(i), ("k", new string('x', 512 * 1024)))
                : Meta("svc", BaseTime.AddSeconds(i), ("k", "v")))
            .ToList();
        var acknowledged = new HashSet<ProfileId>();
        var failed = new HashSet<ProfileId>();
        await using (var storage = new LocalProfileStorage(options))
        {
            // Queued at once, so small batches follow each other closely and each oversized label fails its batch's
            // index commit, taking back records between good ones, whatever the interleaving.
            var writes = metas.Select(meta => (meta.ProfileId, Write: storage.WriteProfileAsync(meta, DataFor(meta), Token))).ToList();
            foreach (var (id, write) in writes)
            {
                try
                {
                    await write;
                    acknowledged.Add(id);
                }
                catch (StorageUnavailableException)
                {
                    failed.Add(id);
                }
            }
        }

        Assert.NotEmpty(failed);
        Assert.NotEmpty(acknowledged);
        await using var reopened = new LocalProfileStorage(directory.Options());
        var found = await reopened.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        // Recovery indexes nothing a failed write left in a segment, and loses nothing acknowledged.
        Assert.True(acknowledged.SetEquals(found.Select(m => m.ProfileId)), $"{found.Count} found, {acknowledged.Count} acknowledged");
        var pushed = metas.ToDictionary(meta => meta.ProfileId);
        var stored = await ListAsync(reopened, [.. acknowledged]);
        Assert.True(acknowledged.SetEquals(stored.Select(profile => profile.Meta.ProfileId)), "a read returned another profile's record");
        foreach (var profile in stored)
        {
            Assert.Equal(DataFor(pushed[profile.Meta.ProfileId]), profile.Data.ToArray());
        }
    }

    [Fact]
    public async Task WriteProfile_IndexFull_TakesBackTheAppendedRecordAndKeepsWorking()
    {
        await using var directory = new LocalStoreDirectory();
        var options = directory.Options();
        options.MaxPageCount = 64;
        await using var storage = new LocalProfileStorage(options);
        var small = Meta("svc", BaseTime, ("k", "v"));
        await storage.WriteProfileAsync(small, new byte[100], Token);
        var segmentBytes = SegmentBytes(storage);

        // Labels live in the index: a huge label fills the database, while the record itself could be appended.
        var big = Meta("svc", BaseTime.AddSeconds(1), ("k", new string('x', 512 * 1024)));
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(big, new byte[100], Token));

        Assert.Equal("local", error.Dependency);
        Assert.Equal(segmentBytes, SegmentBytes(storage));
        Assert.Empty(await ListAsync(storage, big.ProfileId));
        var next = Meta("svc", BaseTime.AddSeconds(2));
        await storage.WriteProfileAsync(next, new byte[] { 1, 2 }, Token);
        await storage.DisposeAsync();

        // Recovery finds nothing of the failed write to index again.
        await using var reopened = new LocalProfileStorage(directory.Options());
        var found = await reopened.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal([small.ProfileId, next.ProfileId], found.Select(m => m.ProfileId));
        Assert.Equal(new byte[] { 1, 2 }, Assert.Single(await ListAsync(reopened, next.ProfileId)).Data.ToArray());
    }

    [Fact]
    public async Task Open_IndexLost_RebuildsItFromTheSegments()
    {
        await using var directory = new LocalStoreDirectory();
        var metas = Enumerable.Range(0, 30)
            .Select(i => Meta(i % 3 == 0 ? "a" : "b", BaseTime.AddSeconds(i), ("region", i % 2 == 0 ? "eu" : "us"), ("host", $"h{i % 4}")))
            .ToList();
        var options = directory.Options();
        options.SegmentBytes = 4096;
        await using (var storage = new LocalProfileStorage(options))
        {
            foreach (var meta in metas)
            {
                await storage.WriteProfileAsync(meta, DataFor(meta), Token);
            }
        }

        // What a power cut does to commits that were not synced, taken to the extreme: no index at all.
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(Path.Combine(directory.Path, LocalProfileStorage.DatabaseFileName + suffix));
        }

        await using var reopened = new LocalProfileStorage(options);

        Assert.Equal(["a", "b"], await reopened.ListServicesAsync(TenantId.Default, Token));
        Assert.Equal(30, (await reopened.GetStatisticsAsync(Token)).ProfileCount);
        var eu = await reopened.FindProfilesAsync(TenantId.Default, new ProfileQuery("b", ProfileType.Cpu, [new Label("region", "eu")], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal(metas.Where(m => m.Service == "b" && m.Labels[0].Value == "eu").Select(m => m.ProfileId), eu.Select(m => m.ProfileId));
        var stored = await ListAsync(reopened, [.. metas.Select(m => m.ProfileId)]);
        Assert.Equal(metas.Count, stored.Count);
        for (var i = 0; i < metas.Count; i++)
        {
            Assert.Equal(metas[i] with { Labels = [] }, stored[i].Meta with { Labels = [] });
            Assert.Equal(metas[i].Labels, stored[i].Meta.Labels);
            Assert.Equal(DataFor(metas[i]), stored[i].Data.ToArray());
        }
    }

    [Fact]
    public async Task Open_SegmentEndsInATornRecord_CutsItOffAndAppendsAfterTheLastWholeOne()
    {
        await using var directory = new LocalStoreDirectory();
        var first = Meta("svc", BaseTime);
        string segment;
        long wholeLength;
        await using (var storage = new LocalProfileStorage(directory.Options()))
        {
            await storage.WriteProfileAsync(first, DataFor(first), Token);
            segment = Assert.Single(Directory.GetFiles(storage.SegmentDirectory));
            wholeLength = new FileInfo(segment).Length;
        }

        // The first part of a record, as a crash in the middle of a write leaves it.
        var torn = Meta("svc", BaseTime.AddSeconds(1));
        var record = new byte[ProfileSegmentRecord.Length(torn, [], 1000)];
        ProfileSegmentRecord.Write(record, torn, [], new byte[1000]);
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            await file.WriteAsync(record.AsMemory(0, 600), Token);
        }

        await using (var storage = new LocalProfileStorage(directory.Options()))
        {
            Assert.Equal(wholeLength, new FileInfo(segment).Length);
            Assert.Empty(await ListAsync(storage, torn.ProfileId));
            var next = Meta("svc", BaseTime.AddSeconds(2));
            await storage.WriteProfileAsync(next, DataFor(next), Token);
        }

        await using var reopened = new LocalProfileStorage(directory.Options());
        var all = await reopened.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        var stored = await ListAsync(reopened, [.. all.Select(m => m.ProfileId)]);
        Assert.Equal(2, stored.Count);
        Assert.All(stored, profile => Assert.Equal(DataFor(profile.Meta), profile.Data.ToArray()));
    }

    [Fact]
    public async Task Open_NewestSegmentFileDeleted_StartsANewSegmentUnderAFreshNumber()
    {
        await using var directory = new LocalStoreDirectory();
        var options = directory.Options();
        options.SegmentBytes = 1500;
        var lost = Meta("svc", BaseTime);
        await using (var storage = new LocalProfileStorage(options))
        {
            await storage.WriteProfileAsync(Meta("svc", BaseTime.AddSeconds(-1)), new byte[1000], Token);
            await storage.WriteProfileAsync(lost, new byte[1000], Token);
        }

        // Someone removes the newest segment by hand: its index rows are left pointing at nothing.
        var segments = Directory.GetFiles(Path.Combine(directory.Path, "segments")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, segments.Count);
        File.Delete(segments[^1]);

        var next = Meta("svc", BaseTime.AddSeconds(1));
        var nextData = new byte[1000];
        nextData[^1] = 7;
        await using (var storage = new LocalProfileStorage(options))
        {
            // Too big for what is left of segment 1: a new segment is started.
            await storage.WriteProfileAsync(next, nextData, Token);
            Assert.Empty(await ListAsync(storage, lost.ProfileId));
        }

        // The new profile is in segment 3, not in a new segment 2 that the index would remember wrongly.
        Assert.EndsWith("000000000003.seg", Directory.GetFiles(Path.Combine(directory.Path, "segments")).Max(StringComparer.Ordinal), StringComparison.Ordinal);
        await using var reopened = new LocalProfileStorage(options);
        Assert.Equal(nextData, Assert.Single(await ListAsync(reopened, next.ProfileId)).Data.ToArray());
    }

    [Fact]
    public async Task ListProfiles_RecordDamagedOnDisk_FailsNamingTheProfile()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        var meta = Meta("svc", BaseTime);
        await storage.WriteProfileAsync(meta, DataFor(meta), Token);
        var segment = Assert.Single(Directory.GetFiles(storage.SegmentDirectory));
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length - 10;
            file.WriteByte(0xFF);
        }

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => ListAsync(storage, meta.ProfileId));

        Assert.Contains(meta.ProfileId.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("damaged", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_DeletesSegmentsOnceAllTheirProfilesExpired()
    {
        await using var directory = new LocalStoreDirectory();
        var options = directory.Options(retentionBatch: 3);
        options.SegmentBytes = 1500;
        await using var storage = new LocalProfileStorage(options);
        var metas = Enumerable.Range(0, 10).Select(i => Meta("svc", BaseTime.AddSeconds(i))).ToList();
        foreach (var meta in metas)
        {
            // One record per segment: 1,000 bytes each with a segment size of 1,500.
            await storage.WriteProfileAsync(meta, new byte[1000], Token);
        }

        Assert.Equal(10, Directory.GetFiles(storage.SegmentDirectory).Length);

        Assert.Equal(6, await storage.DeleteProfilesStoredBeforeAsync(BaseTime.AddSeconds(5.5), Token));

        Assert.Equal(4, Directory.GetFiles(storage.SegmentDirectory).Length);
        Assert.Equal(4, (await ListAsync(storage, [.. metas.Select(m => m.ProfileId)])).Count);
        Assert.Equal(4, (await storage.GetStatisticsAsync(Token)).ProfileCount);

        // Even when everything expired, the segment being appended to stays until it is full.
        Assert.Equal(4, await storage.DeleteProfilesStoredBeforeAsync(BaseTime.AddDays(1), Token));
        Assert.Single(Directory.GetFiles(storage.SegmentDirectory));
    }

    [Fact]
    public async Task Open_Version1Database_KeepsItsProfilesAndStoresNewOnesInSegments()
    {
        await using var directory = new LocalStoreDirectory();
        var old = Meta("svc", BaseTime, ("region", "eu"));
        using (var connection = OpenRaw(Path.Combine(directory.Path, LocalProfileStorage.DatabaseFileName)))
        {
            Scalar(connection, LocalSchema.CreateV1);
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO services(service_id, name, profile_count) VALUES(1, 'svc', 1);
                INSERT INTO profiles(seq, id, service_id, type, created_at, stored_at, labels) VALUES(1, $id, 1, $type, $time, $time, $labels);
                INSERT INTO profile_data(seq, data) VALUES(1, x'0A0B0C');
                INSERT INTO profile_labels VALUES(1, 'region', 'eu', $time, $id, $type, 1);
                INSERT INTO label_values VALUES(1, 'region', 'eu', 1);
                """;
            insert.Parameters.AddWithValue("$id", old.ProfileId.ToBytes());
            insert.Parameters.AddWithValue("$type", (long)old.Type);
            insert.Parameters.AddWithValue("$time", LocalProfileStorage.ToTicks(BaseTime));
            insert.Parameters.AddWithValue("$labels", LabelCodec.Encode(old.Labels));
            insert.ExecuteNonQuery();
        }

        await using var storage = new LocalProfileStorage(directory.Options());
        var fresh = Meta("svc", BaseTime.AddSeconds(1), ("region", "eu"));
        await storage.WriteProfileAsync(fresh, new byte[] { 1 }, Token);

        var found = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", ProfileType.Cpu, [new Label("region", "eu")], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal([old.ProfileId, fresh.ProfileId], found.Select(m => m.ProfileId));
        var stored = await ListAsync(storage, old.ProfileId, fresh.ProfileId);
        Assert.Equal(new byte[] { 0x0A, 0x0B, 0x0C }, stored[0].Data.ToArray());
        Assert.Equal(new byte[] { 1 }, stored[1].Data.ToArray());
        Assert.Equal(1, await storage.DeleteProfilesStoredBeforeAsync(BaseTime.AddSeconds(0.5), Token));
        Assert.Empty(await ListAsync(storage, old.ProfileId));
        using var check = OpenRaw(storage.DatabasePath);
        Assert.Equal(0L, Scalar(check, "SELECT count(*) FROM profile_data"));

        // The rows written before tenants are the default tenant's; another tenant's "svc" is a service of its own.
        var teamA = TenantId.Parse("team-a");
        var ofA = Meta("svc", BaseTime.AddSeconds(2), ("region", "eu")) with { Tenant = teamA };
        await storage.WriteProfileAsync(ofA, new byte[] { 2 }, Token);
        var all = new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue);
        Assert.Equal([ofA.ProfileId], (await storage.FindProfilesAsync(teamA, all, Token)).Select(m => m.ProfileId));
        Assert.Equal([fresh.ProfileId], (await storage.FindProfilesAsync(TenantId.Default, all, Token)).Select(m => m.ProfileId));
    }

    [Fact]
    public void SegmentRecord_OfAnotherTenant_ReadsBackWithItsTenant_WhileTheDefaultTenantKeepsTheFirstLayout()
    {
        var teamA = TenantId.Parse("team-a");
        var ofA = Meta("svc", BaseTime, ("k", "v")) with { Tenant = teamA };
        var ofDefault = Meta("svc", BaseTime, ("k", "v"));
        var labels = LabelCodec.Encode(ofA.Labels);
        var data = new byte[] { 1, 2, 3 };
        var recordOfA = new byte[ProfileSegmentRecord.Length(ofA, labels, data.Length)];
        ProfileSegmentRecord.Write(recordOfA, ofA, labels, data);
        var recordOfDefault = new byte[ProfileSegmentRecord.Length(ofDefault, labels, data.Length)];
        ProfileSegmentRecord.Write(recordOfDefault, ofDefault, labels, data);

        Assert.Equal(teamA, ProfileSegmentRecord.Read(recordOfA)!.Meta.Tenant);
        Assert.Equal(TenantId.Default, ProfileSegmentRecord.Read(recordOfDefault)!.Meta.Tenant);
        Assert.Equal(data, ProfileSegmentRecord.Data(recordOfA, ofA.ProfileId).ToArray());
        Assert.Equal(data, ProfileSegmentRecord.Data(recordOfDefault, ofDefault.ProfileId).ToArray());
        Assert.Equal("PFR1"u8.ToArray(), recordOfDefault[..4]);
        Assert.Equal("PFR2"u8.ToArray(), recordOfA[..4]);
    }

    [Fact]
    public async Task WriteProfile_SustainedLoad_KeepsTheWriteAheadLogBounded()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        var data = new byte[1024 * 1024];
        var walPath = storage.DatabasePath + "-wal";
        long largest = 0;

        for (var i = 0; i < 100; i++)
        {
            await storage.WriteProfileAsync(Meta("svc", BaseTime.AddSeconds(i)), data, Token);
            largest = Math.Max(largest, new FileInfo(walPath).Length);
        }

        // 100 MB written; the log is emptied once it passes 64 MB, give or take one commit's pages.
        Assert.InRange(largest, 1, 72L * 1024 * 1024);
        Assert.Equal(100, (await storage.GetStatisticsAsync(Token)).ProfileCount);
    }

    [Fact]
    public async Task GetStatistics_CountsProfilesAndBytesOnDisk()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        Assert.Equal(0, (await storage.GetStatisticsAsync(Token)).ProfileCount);

        for (var i = 0; i < 10; i++)
        {
            await storage.WriteProfileAsync(Meta(i % 2 == 0 ? "a" : "b", BaseTime.AddDays(-i)), new byte[10_000], Token);
        }

        var statistics = await storage.GetStatisticsAsync(Token);
        Assert.Equal(10, statistics.ProfileCount);
        Assert.True(statistics.BytesOnDisk > 100_000, $"{statistics.BytesOnDisk} bytes on disk for 100,000 bytes of profiles");

        await storage.DeleteProfilesStoredBeforeAsync(BaseTime.AddDays(-4.5), Token);
        Assert.Equal(5, (await storage.GetStatisticsAsync(Token)).ProfileCount);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task FindProfiles_Plan_SearchesIndexesAndNeverScans(bool withType, bool withLabels)
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        await storage.WriteProfileAsync(Meta("svc", BaseTime, ("region", "eu"), ("host", "h")), new byte[1], Token);
        await storage.WriteProfileAsync(Meta("svc", BaseTime, ("region", "eu"), ("host", "i")), new byte[1], Token);

        Label[] labels = withLabels ? [new Label("region", "eu"), new Label("host", "h")] : [];
        var query = new ProfileQuery("svc", withType ? ProfileType.Cpu : null, labels, BaseTime.AddHours(-1), BaseTime, Limit: 10);
        var plan = storage.ExplainFind(query);

        Assert.NotEmpty(plan);
        Assert.All(plan, step => Assert.StartsWith("SEARCH", step, StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    private static long SegmentBytes(LocalProfileStorage storage) =>
        Directory.GetFiles(storage.SegmentDirectory).Sum(file => new FileInfo(file).Length);

    private static byte[] DataFor(ProfileMeta meta) =>
        [.. meta.ProfileId.ToBytes(), .. System.Text.Encoding.UTF8.GetBytes(meta.Service), .. new byte[meta.ProfileId.GetHashCode() & 0xFF]];

    private static ProfileMeta Meta(string service, DateTime createdAt, params (string Key, string Value)[] labels) =>
        new(ProfileId.NewId(createdAt), ProfileType.Cpu, service, [.. labels.Select(l => new Label(l.Key, l.Value))], createdAt);

    private static async Task<List<StoredProfile>> ListAsync(LocalProfileStorage storage, params ProfileId[] ids)
    {
        var result = new List<StoredProfile>();
        await foreach (var profile in storage.ListProfilesAsync(TenantId.Default, ids, Token))
        {
            result.Add(profile);
        }

        return result;
    }

    private static SqliteConnection OpenRaw(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
