using Profefe.Storage.Postgres;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Server.Tests.Storage;

/// <summary>The storage contract on "S3 + PostgreSQL": real Ceph RGW for the bytes, real PostgreSQL for the index.</summary>
[Collection(S3PostgresTests.Name)]
public sealed class S3PostgresStorageContractTests(PostgresServerFixture postgres, CephRgwServerFixture rgw) : ProfileStorageContractTests
{
    protected override async Task<ProfileStorageUnderTest> OpenAsync()
    {
        var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        // A small retention batch makes the retention facts cross batch boundaries.
        var storage = store.Open(retentionBatch: 100);
        await storage.InitializeAsync(TestContext.Current.CancellationToken);
        return UnderTest(storage, store);
    }

    protected override async Task<ProfileStorageUnderTest> ReopenAsync(ProfileStorageUnderTest storage)
    {
        var previous = (PostgresProfileStorage)storage.Writer;
        var store = ((ReopenableStoreOwner<S3PostgresTestStore>)storage.Owner!).Place;
        await previous.DisposeAsync();
        return UnderTest(store.Open(retentionBatch: 100), null);
    }

    private static ProfileStorageUnderTest UnderTest(PostgresProfileStorage storage, S3PostgresTestStore? store) =>
        new(storage, storage, storage, new ReopenableStoreOwner<S3PostgresTestStore>(storage, store));
}
