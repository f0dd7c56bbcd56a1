using Profefe.Storage.Postgres;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Server.Tests.Storage;

/// <summary>
/// The storage contract on "S3 + PostgreSQL": real Ceph RGW for the bytes, real PostgreSQL for the index; one
/// object per profile here, batched into segments in <see cref="S3PostgresSegmentStorageContractTests"/>.
/// </summary>
[Collection(S3PostgresTests.Name)]
public class S3PostgresStorageContractTests(PostgresServerFixture postgres, CephRgwServerFixture rgw) : ProfileStorageContractTests
{
    /// <summary>The index over <paramref name="store"/> as the test class composes it.</summary>
    private protected virtual PostgresProfileStorage Open(S3PostgresTestStore store) => store.Open(retentionBatch: 100);

    protected override async Task<ProfileStorageUnderTest> OpenAsync()
    {
        var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        // A small retention batch makes the retention facts cross batch boundaries.
        var storage = Open(store);
        await storage.InitializeAsync(TestContext.Current.CancellationToken);
        return UnderTest(storage, store);
    }

    protected override async Task<ProfileStorageUnderTest> ReopenAsync(ProfileStorageUnderTest storage)
    {
        var previous = (PostgresProfileStorage)storage.Writer;
        var store = ((ReopenableStoreOwner<S3PostgresTestStore>)storage.Owner!).Place;
        await previous.DisposeAsync();
        return UnderTest(Open(store), null);
    }

    private static ProfileStorageUnderTest UnderTest(PostgresProfileStorage storage, S3PostgresTestStore? store) =>
        new(storage, storage, storage, new ReopenableStoreOwner<S3PostgresTestStore>(storage, store));
}

/// <summary>The storage contract on "S3 + PostgreSQL" as the server composes it: writes batched into segment objects.</summary>
[Collection(S3PostgresTests.Name)]
public sealed class S3PostgresSegmentStorageContractTests(PostgresServerFixture postgres, CephRgwServerFixture rgw) : S3PostgresStorageContractTests(postgres, rgw)
{
    private protected override PostgresProfileStorage Open(S3PostgresTestStore store) => store.OpenBatched(retentionBatch: 100);
}
