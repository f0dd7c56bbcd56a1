using Profefe.Core.Engine;
using Profefe.Storage.Local.Engine;
using Profefe.Testing.Engine;

namespace Profefe.Storage.Local.Tests.Engine;

/// <summary>The engine's contract over the embedded store: its index as the write log, engine.db beside it.</summary>
public sealed class LocalEngineContractTests : ProfileEngineContractTests
{
    protected override Task<EngineUnderTest> OpenAsync()
    {
        var directory = new LocalStoreDirectory();
        var storage = new LocalProfileStorage(directory.Options());
        var store = new LocalEngineStore(storage.DataDirectory);
        return Task.FromResult(new EngineUnderTest(storage, storage, storage, storage, store, new LocalEngineOwner(store, new LocalStoreOwner(storage, directory))));
    }

    protected override IProfileEngineStore OpenAnotherStore(EngineUnderTest engine) =>
        new LocalEngineStore(((LocalProfileStorage)engine.Writer).DataDirectory);

    private sealed class LocalEngineOwner(LocalEngineStore store, LocalStoreOwner then) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            store.Dispose();
            await then.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }
}
