using Microsoft.Data.Sqlite;
using Profefe.Core;
using Profefe.Core.Storage;

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
        Assert.Equal(2, storage.Synchronous);
        Assert.Equal(LocalStorageSynchronous.Full, new LocalStorageOptions().Synchronous);
        using var connection = OpenRaw(storage.DatabasePath);
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal(1L, Scalar(connection, "PRAGMA user_version"));
    }

    [Fact]
    public async Task Open_SynchronousNormal_IsApplied()
    {
        await using var directory = new LocalStoreDirectory();
        var options = directory.Options();
        options.Synchronous = LocalStorageSynchronous.Normal;

        await using var storage = new LocalProfileStorage(options);

        Assert.Equal("wal", storage.JournalMode);
        Assert.Equal(1, storage.Synchronous);
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
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.ListServicesAsync(Token));
        await using var reopened = new LocalProfileStorage(directory.Options());
        var found = await reopened.FindProfilesAsync(new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
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
        Assert.Equal(["svc"], await storage.ListServicesAsync(Token));
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
        Assert.Empty(await storage.ListServicesAsync(Token));
    }

    [Fact]
    public async Task WriteProfile_DiskFull_FailsAsUnavailableAndLeavesNothingBehind()
    {
        await using var directory = new LocalStoreDirectory();
        var options = directory.Options();
        options.MaxPageCount = 64;
        await using var storage = new LocalProfileStorage(options);
        var small = Meta("svc", BaseTime, ("k", "v"));
        await storage.WriteProfileAsync(small, new byte[100], Token);

        var big = Meta("svc", BaseTime.AddSeconds(1), ("k", "big"));
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(big, new byte[1024 * 1024], Token));

        Assert.Equal("local", error.Dependency);
        Assert.Empty(await ListAsync(storage, big.ProfileId));
        Assert.Equal(["v"], Assert.Single(await storage.ListLabelsAsync("svc", Token)).Values);
        var found = await storage.FindProfilesAsync(new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal([small.ProfileId], found.Select(m => m.ProfileId));
        // The store keeps working once there is room again.
        await storage.WriteProfileAsync(Meta("svc", BaseTime.AddSeconds(2)), new byte[100], Token);
        Assert.Equal(2, (await storage.GetStatisticsAsync(Token)).ProfileCount);
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

    private static ProfileMeta Meta(string service, DateTime createdAt, params (string Key, string Value)[] labels) =>
        new(ProfileId.NewId(createdAt), ProfileType.Cpu, service, [.. labels.Select(l => new Label(l.Key, l.Value))], createdAt);

    private static async Task<List<StoredProfile>> ListAsync(LocalProfileStorage storage, params ProfileId[] ids)
    {
        var result = new List<StoredProfile>();
        await foreach (var profile in storage.ListProfilesAsync(ids, Token))
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
