using Profefe.Testing.Storage;

namespace Profefe.Storage.Local.Tests;

public sealed class LocalProfileStorageContractTests : ProfileStorageContractTests
{
    protected override Task<ProfileStorageUnderTest> OpenAsync()
    {
        var directory = new LocalStoreDirectory();
        // A small retention batch makes the retention facts cross batch boundaries.
        var storage = new LocalProfileStorage(directory.Options(retentionBatch: 100));
        return Task.FromResult(LocalStoreDirectory.UnderTest(storage, new LocalStoreOwner(storage, directory)));
    }

    protected override async Task<ProfileStorageUnderTest> ReopenAsync(ProfileStorageUnderTest storage)
    {
        var previous = (LocalProfileStorage)storage.Writer;
        await previous.DisposeAsync();
        var reopened = new LocalProfileStorage(new LocalStorageOptions { DataDirectory = previous.DataDirectory, RetentionBatchProfiles = 100 });
        return LocalStoreDirectory.UnderTest(reopened, new LocalStoreOwner(reopened, null));
    }
}
