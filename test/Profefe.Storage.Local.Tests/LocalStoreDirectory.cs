using Profefe.Testing.Storage;

namespace Profefe.Storage.Local.Tests;

/// <summary>A temporary data directory, deleted with everything in it when disposed.</summary>
internal sealed class LocalStoreDirectory : IAsyncDisposable
{
    public LocalStoreDirectory()
    {
        Path = Directory.CreateTempSubdirectory("profefe-local-").FullName;
    }

    public string Path { get; }

    public LocalStorageOptions Options(int retentionBatch = 500) =>
        new() { DataDirectory = Path, RetentionBatchProfiles = retentionBatch };

    public ValueTask DisposeAsync()
    {
        Directory.Delete(Path, recursive: true);
        return ValueTask.CompletedTask;
    }

    public static ProfileStorageUnderTest UnderTest(LocalProfileStorage storage, IAsyncDisposable owner) =>
        new(storage, storage, storage, owner);
}

/// <summary>Disposes a store, then whatever else the test made (its directory).</summary>
internal sealed class LocalStoreOwner(LocalProfileStorage storage, IAsyncDisposable? then) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await storage.DisposeAsync();
        if (then is not null)
        {
            await then.DisposeAsync();
        }
    }
}
