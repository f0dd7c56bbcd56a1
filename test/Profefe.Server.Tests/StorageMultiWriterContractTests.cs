using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Storage.Local;
using Profefe.Storage.Postgres;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Server.Tests;

/// <summary>The storage contract on the multi-writer over two embedded stores in two directories.</summary>
public sealed class StorageMultiWriterLocalContractTests : ProfileStorageContractTests
{
    protected override Task<ProfileStorageUnderTest> OpenAsync()
    {
        var directories = new[] { TempDirectory(), TempDirectory() };
        return Task.FromResult(MultiWriter.Open(
            [
                Local("local", directories[0]),
                Local("local-2", directories[1]),
            ],
            directories));
    }

    protected override async Task<ProfileStorageUnderTest> ReopenAsync(ProfileStorageUnderTest storage)
    {
        var previous = (MultiProfileStorage)storage.Writer;
        await MultiWriter.CloseAsync(previous);
        return MultiWriter.Open([.. previous.Backends.Select(b => Local(b.Name, ((LocalProfileStorage)b.Writer).DataDirectory))], []);
    }

    [Fact]
    public async Task WriteProfile_EveryBackendHoldsTheProfile() => await MultiWriter.AssertEveryBackendHoldsAsync(Storage);

    // A small retention batch makes the retention facts cross batch boundaries.
    private static ProfileStorageBackend Local(string name, string directory)
    {
        var storage = new LocalProfileStorage(new LocalStorageOptions { DataDirectory = directory, RetentionBatchProfiles = 100 });
        return new ProfileStorageBackend(name, storage, storage, storage, storage);
    }

    private static string TempDirectory() => Directory.CreateTempSubdirectory("profefe-multi-").FullName;
}

/// <summary>The storage contract on the multi-writer with PostgreSQL first (reads) and the embedded store second.</summary>
[Collection(StoragePostgresTests.Name)]
public sealed class StorageMultiWriterPostgresContractTests(PostgresServerFixture fixture) : ProfileStorageContractTests
{
    private PostgresTestSchema? _schema;
    private string? _directory;

    protected override async Task<ProfileStorageUnderTest> OpenAsync()
    {
        _schema = new PostgresTestSchema(fixture.Require());
        _directory = Directory.CreateTempSubdirectory("profefe-multi-").FullName;
        var postgres = new PostgresProfileStorage(_schema.Options(retentionBatch: 100));
        await postgres.InitializeAsync(TestContext.Current.CancellationToken);
        return MultiWriter.Open([Postgres(postgres), Local(_directory)], [_directory], _schema);
    }

    protected override async Task<ProfileStorageUnderTest> ReopenAsync(ProfileStorageUnderTest storage)
    {
        await MultiWriter.CloseAsync((MultiProfileStorage)storage.Writer);
        return MultiWriter.Open([Postgres(new PostgresProfileStorage(_schema!.Options(retentionBatch: 100))), Local(_directory!)], []);
    }

    [Fact]
    public async Task WriteProfile_EveryBackendHoldsTheProfile() => await MultiWriter.AssertEveryBackendHoldsAsync(Storage);

    private static ProfileStorageBackend Postgres(PostgresProfileStorage storage) => new("postgres", storage, storage, storage, storage);

    private static ProfileStorageBackend Local(string directory)
    {
        var storage = new LocalProfileStorage(new LocalStorageOptions { DataDirectory = directory, RetentionBatchProfiles = 100 });
        return new ProfileStorageBackend("local", storage, storage, storage, storage);
    }
}

/// <summary>Opens and closes multi-writers for the contract tests.</summary>
internal static class MultiWriter
{
    public static ProfileStorageUnderTest Open(ProfileStorageBackend[] backends, string[] directories, IAsyncDisposable? schema = null)
    {
        var storage = new MultiProfileStorage(backends);
        return new ProfileStorageUnderTest(storage, storage, storage, new Owner(storage, directories, schema));
    }

    public static async Task CloseAsync(MultiProfileStorage storage)
    {
        foreach (var backend in storage.Backends)
        {
            switch (backend.Writer)
            {
                case IAsyncDisposable disposable:
                    await disposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    /// <summary>Reads come from the first backend only: every other one must hold the same profile too.</summary>
    public static async Task AssertEveryBackendHoldsAsync(ProfileStorageUnderTest storage)
    {
        var token = TestContext.Current.CancellationToken;
        var created = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
        var meta = new ProfileMeta(ProfileId.NewId(created), ProfileType.Cpu, "multi", [new Label("k", "v")], created);
        var data = new byte[4_321];
        Random.Shared.NextBytes(data);

        await storage.Writer.WriteProfileAsync(meta, data, token);

        foreach (var backend in ((MultiProfileStorage)storage.Writer).Backends)
        {
            var found = await backend.Reader.FindProfilesAsync(TenantId.Default, new ProfileQuery("multi", null, [new Label("k", "v")], DateTime.MinValue, DateTime.MaxValue), token);
            Assert.Equal(meta.ProfileId, Assert.Single(found).ProfileId);
            var listed = 0;
            await foreach (var stored in backend.Reader.ListProfilesAsync(TenantId.Default, [meta.ProfileId], token))
            {
                Assert.Equal(data, stored.Data.ToArray());
                listed++;
            }

            Assert.Equal(1, listed);
        }
    }

    private sealed class Owner(MultiProfileStorage storage, string[] directories, IAsyncDisposable? schema) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await CloseAsync(storage);
            foreach (var directory in directories)
            {
                Directory.Delete(directory, recursive: true);
            }

            if (schema is not null)
            {
                await schema.DisposeAsync();
            }
        }
    }
}
