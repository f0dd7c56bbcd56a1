using Profefe.Core.Engine;
using Profefe.Storage.Postgres.Engine;
using Profefe.Testing;
using Profefe.Testing.Engine;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Storage.Postgres.Tests;

/// <summary>The engine's contract on PostgreSQL alone: the index as the write log, blocks in bytea.</summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class PostgresEngineContractTests(PostgresServerFixture fixture) : ProfileEngineContractTests
{
    protected override async Task<EngineUnderTest> OpenAsync()
    {
        var schema = new PostgresTestSchema(fixture.Require());
        var storage = new PostgresProfileStorage(schema.Options());
        var store = new PostgresEngineStore(storage, null, TimeSpan.Zero);
        Assert.True(await store.TryHoldLeaseAsync(TimeSpan.FromMinutes(10), TestContext.Current.CancellationToken));
        return new EngineUnderTest(storage, storage, storage, storage, store, new ReopenableStoreOwner<PostgresTestSchema>(storage, schema));
    }

    protected override IProfileEngineStore OpenAnotherStore(EngineUnderTest engine) =>
        new PostgresEngineStore((PostgresProfileStorage)engine.Writer, null, TimeSpan.Zero);
}
