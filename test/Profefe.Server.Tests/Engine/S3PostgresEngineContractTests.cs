using Profefe.Core.Engine;
using Profefe.Testing;
using Profefe.Testing.Engine;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests.Engine;

/// <summary>The engine's contract on S3 + PostgreSQL against real Ceph RGW and PostgreSQL: blocks as objects, the rest in PostgreSQL.</summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(StoragePostgresTests.Name)]
public sealed class S3PostgresEngineContractTests(PostgresServerFixture postgres, CephRgwServerFixture ceph) : ProfileEngineContractTests, IClassFixture<CephRgwServerFixture>
{
    protected override async Task<EngineUnderTest> OpenAsync()
    {
        var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        var store = place.NewStore();
        Assert.True(await store.TryHoldLeaseAsync(TimeSpan.FromMinutes(10), TestContext.Current.CancellationToken));
        return new EngineUnderTest(place.Storage, place.Storage, place.Storage, place.Storage, store, place);
    }

    protected override IProfileEngineStore OpenAnotherStore(EngineUnderTest engine) => ((SharedEnginePlace)engine.Owner).NewStore();
}
