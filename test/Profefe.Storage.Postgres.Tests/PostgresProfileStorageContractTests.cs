using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Storage.Postgres.Tests;

public sealed class PostgresProfileStorageContractTests(PostgresServerFixture fixture) : ProfileStorageContractTests
{
    protected override async Task<ProfileStorageUnderTest> OpenAsync()
    {
        var schema = new PostgresTestSchema(fixture.Require());
        // A small retention batch makes the retention facts cross batch boundaries.
        var storage = new PostgresProfileStorage(schema.Options(retentionBatch: 100));
        await storage.InitializeAsync(TestContext.Current.CancellationToken);
        return UnderTest(storage, schema);
    }

    protected override async Task<ProfileStorageUnderTest> ReopenAsync(ProfileStorageUnderTest storage)
    {
        var previous = (PostgresProfileStorage)storage.Writer;
        var options = ((ReopenableStoreOwner<PostgresTestSchema>)storage.Owner!).Place.Options(retentionBatch: 100);
        await previous.DisposeAsync();
        var reopened = new PostgresProfileStorage(options);
        return UnderTest(reopened, null);
    }

    private static ProfileStorageUnderTest UnderTest(PostgresProfileStorage storage, PostgresTestSchema? schema) =>
        new(storage, storage, storage, new ReopenableStoreOwner<PostgresTestSchema>(storage, schema));
}
