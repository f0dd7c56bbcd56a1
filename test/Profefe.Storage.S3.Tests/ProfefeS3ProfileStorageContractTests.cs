using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Storage.S3.Tests;

/// <summary>
/// The storage contract on S3 alone in profefe's layout (real Ceph RGW). Every fact holds: the keys carry all
/// a find needs, and the extension chunk keeps what profefe's keys would lose. Reopening starts with an empty
/// key cache, so reads by id after it go through the bucket listing.
/// </summary>
public sealed class ProfefeS3ProfileStorageContractTests(CephRgwServerFixture rgw) : ProfileStorageContractTests
{
    protected override async Task<ProfileStorageUnderTest> OpenAsync()
    {
        var options = await ProfefeS3TestBucket.CreateAsync(rgw.Require());
        return UnderTest(new ProfefeS3ProfileStorage(options), options);
    }

    protected override Task<ProfileStorageUnderTest> ReopenAsync(ProfileStorageUnderTest storage)
    {
        var options = ((StoreOwner)storage.Owner!).Options;
        ((ProfefeS3ProfileStorage)storage.Writer).Dispose();
        return Task.FromResult(UnderTest(new ProfefeS3ProfileStorage(options), options));
    }

    private static ProfileStorageUnderTest UnderTest(ProfefeS3ProfileStorage storage, S3StorageOptions options) =>
        new(storage, storage, storage, new StoreOwner(storage, options));

    private sealed class StoreOwner(ProfefeS3ProfileStorage storage, S3StorageOptions options) : IAsyncDisposable
    {
        public S3StorageOptions Options => options;

        public ValueTask DisposeAsync()
        {
            storage.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
