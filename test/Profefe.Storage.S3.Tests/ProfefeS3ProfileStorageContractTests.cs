using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Storage.S3.Tests;

/// <summary>
/// The storage contract on S3 alone in profefe's layout (real Ceph RGW). Every fact holds: the keys carry all
/// a find needs, and the extension chunk keeps what profefe's keys would lose. Reopening starts with an empty
/// key cache, so reads by id after it go through the bucket listing. profefe's layout has no tenants: the bucket
/// is the default tenant's, which the facts below check instead of the suite's tenant facts.
/// </summary>
public sealed class ProfefeS3ProfileStorageContractTests(CephRgwServerFixture rgw) : ProfileStorageContractTests
{
    protected override bool KeepsTenants => false;

    [Fact]
    public async Task Tenants_OtherThanDefault_AreRefusedOnWrite_AndSeeNothing()
    {
        var ofDefault = await WriteAsync(Meta("api", ProfileType.Cpu, BaseTime, ("k", "v")));

        var refused = await Assert.ThrowsAsync<ProfileRequestException>(
            () => Writer.WriteProfileAsync(Meta("api", ProfileType.Cpu, BaseTime) with { Tenant = TenantA }, RandomBytes(10), Token));

        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("team-a", refused.Message, StringComparison.Ordinal);
        Assert.Empty(await Reader.FindProfilesAsync(TenantA, new ProfileQuery("api", null, [], DateTime.MinValue, DateTime.MaxValue), Token));
        Assert.Empty(await ListAsync(TenantA, ofDefault.ProfileId));
        Assert.Empty(await Reader.ListServicesAsync(TenantA, Token));
        Assert.Empty(await Reader.ListLabelsAsync(TenantA, null, Token));
        Assert.Equal(["api"], await Reader.ListServicesAsync(TenantId.Default, Token));
    }

    protected override async Task<ProfileStorageUnderTest> OpenAsync()
    {
        var options = await CephTestBucket.CreateForProfefeLayoutAsync(rgw.Require());
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
