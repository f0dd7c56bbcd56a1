using Amazon.S3.Model;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Testing;
using Profefe.Testing.Servers;

namespace Profefe.Storage.S3.Tests;

/// <summary>What the contract suite does not cover: objects profefe wrote, the bucket going away, statistics.</summary>
public sealed class ProfefeS3ProfileStorageTests(CephRgwServerFixture rgw)
{
    private static readonly DateTime BaseTime = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeleteProfilesStoredBefore_KeyProfefeWrote_GoesByLastModified()
    {
        var options = await CephTestBucket.CreateForProfefeLayoutAsync(rgw.Require());
        using var storage = new ProfefeS3ProfileStorage(options);
        // profefe's key: the xid is created_at (long ago), but the object arrived just now.
        var id = ProfileId.NewId(BaseTime.AddDays(-30));
        await PutAsync(options, $"P0.svc/1/{id},k=v", [1, 2, 3]);

        Assert.Equal(0, await storage.DeleteProfilesStoredBeforeAsync(DateTime.UtcNow.AddHours(-1), Token));
        Assert.Single(await storage.FindProfilesAsync(TenantId.Default, Query("svc"), Token));

        Assert.Equal(1, await storage.DeleteProfilesStoredBeforeAsync(DateTime.UtcNow.AddHours(1), Token));
        Assert.Empty(await storage.FindProfilesAsync(TenantId.Default, Query("svc"), Token));
        Assert.Empty(await storage.ListServicesAsync(TenantId.Default, Token));
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_ObjectsNotInTheLayout_AreLeftAlone()
    {
        var options = await CephTestBucket.CreateForProfefeLayoutAsync(rgw.Require());
        using var storage = new ProfefeS3ProfileStorage(options);
        await PutAsync(options, "P0.svc/1/not-an-id", [1]);
        await PutAsync(options, "other/thing", [2]);

        Assert.Equal(0, await storage.DeleteProfilesStoredBeforeAsync(DateTime.UtcNow.AddDays(1), Token));

        using var client = S3ClientFactory.Create(options);
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket }, Token);
        Assert.Equal(["P0.svc/1/not-an-id", "other/thing"], listed.S3Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task WriteProfile_WithPrefix_KeysAreProfefesUnderThePrefix()
    {
        var options = await CephTestBucket.CreateForProfefeLayoutAsync(rgw.Require());
        options.Prefix = "team-a/";
        using var storage = new ProfefeS3ProfileStorage(options);
        var meta = new ProfileMeta(ProfileId.NewId(BaseTime), ProfileType.Mutex, "svc", [new Label("k", "v")], BaseTime);

        await storage.WriteProfileAsync(meta, TestData.Read("go/mutex_01.pb.gz"), Token);

        using var client = S3ClientFactory.Create(options);
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket }, Token);
        Assert.Equal(storage.KeyOf(meta), Assert.Single(listed.S3Objects).Key);
        Assert.StartsWith("team-a/P0.svc/4/" + meta.ProfileId + ",", storage.KeyOf(meta), StringComparison.Ordinal);
        Assert.Equal(["svc"], await storage.ListServicesAsync(TenantId.Default, Token));
        using var reopened = new ProfefeS3ProfileStorage(options);
        await foreach (var stored in reopened.ListProfilesAsync(TenantId.Default, [meta.ProfileId], Token))
        {
            Assert.Equal(TestData.Read("go/mutex_01.pb.gz"), stored.Data.ToArray());
            Assert.Equal(meta.Labels, stored.Meta.Labels);
        }
    }

    [Fact]
    public async Task WriteProfile_ControlCharactersInServiceAndLabels_RoundTrip()
    {
        var options = await CephTestBucket.CreateForProfefeLayoutAsync(rgw.Require());
        using var storage = new ProfefeS3ProfileStorage(options);
        var meta = new ProfileMeta(ProfileId.NewId(BaseTime), ProfileType.Cpu, "a\u0001b\tc", [new Label("k\n", "v\u0002")], BaseTime);

        await storage.WriteProfileAsync(meta, new byte[3], Token);

        Assert.Equal(["a\u0001b\tc"], await storage.ListServicesAsync(TenantId.Default, Token));
        var found = Assert.Single(await storage.FindProfilesAsync(TenantId.Default, Query("a\u0001b\tc"), Token));
        Assert.Equal(meta.Labels, found.Labels);
        Assert.Equal(meta.ProfileId, found.ProfileId);
    }

    [Fact]
    public async Task GetStatistics_CountsProfilesAndTheirBytes()
    {
        var options = await CephTestBucket.CreateForProfefeLayoutAsync(rgw.Require());
        using var storage = new ProfefeS3ProfileStorage(options);
        await storage.WriteProfileAsync(new ProfileMeta(ProfileId.NewId(BaseTime), ProfileType.Cpu, "a", [], BaseTime), new byte[100], Token);
        await storage.WriteProfileAsync(new ProfileMeta(ProfileId.NewId(BaseTime), ProfileType.Heap, "b/c", [], BaseTime), new byte[50], Token);
        await PutAsync(options, "README", new byte[7]);

        var statistics = await storage.GetStatisticsAsync(Token);

        Assert.Equal(new ProfileStorageStatistics(2, 150), statistics);
    }

    [Fact]
    public async Task EveryOperation_BucketMissing_ThrowsUnavailableNamingS3()
    {
        var options = await CephTestBucket.CreateForProfefeLayoutAsync(rgw.Require());
        options.Bucket = "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8];
        using var storage = new ProfefeS3ProfileStorage(options);
        var meta = new ProfileMeta(ProfileId.NewId(BaseTime), ProfileType.Cpu, "svc", [], BaseTime);

        var failures = new List<Func<Task>>
        {
            () => storage.WriteProfileAsync(meta, new byte[10], Token),
            () => storage.FindProfilesAsync(TenantId.Default, Query("svc"), Token),
            () => storage.ListServicesAsync(TenantId.Default, Token),
            () => storage.ListLabelsAsync(TenantId.Default, null, Token),
            () => storage.DeleteProfilesStoredBeforeAsync(BaseTime, Token),
            () => storage.GetStatisticsAsync(Token),
            () => storage.CheckReadyAsync(Token),
            async () =>
            {
                await foreach (var _ in storage.ListProfilesAsync(TenantId.Default, [meta.ProfileId], Token))
                {
                }
            },
        };
        foreach (var failure in failures)
        {
            var exception = await Assert.ThrowsAsync<StorageUnavailableException>(failure);
            Assert.Equal("s3", exception.Dependency);
            Assert.Contains(options.Bucket, exception.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FindProfiles_ServerUnreachable_ThrowsUnavailableNamingS3()
    {
        var options = await CephTestBucket.CreateForProfefeLayoutAsync(rgw.Require());
        options.ServiceUrl = $"http://127.0.0.1:{FreePort.Next()}";
        options.MaxErrorRetry = 0;
        using var storage = new ProfefeS3ProfileStorage(options);

        var exception = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.FindProfilesAsync(TenantId.Default, Query("svc"), Token));

        Assert.Equal("s3", exception.Dependency);
    }

    [Fact]
    public async Task WriteProfile_KeyLongerThanS3Allows_IsABadRequestNotAnOutage()
    {
        // No server behind this address: the write must be refused before any request.
        var options = new S3StorageOptions { ServiceUrl = $"http://127.0.0.1:{FreePort.Next()}", Bucket = "b", AccessKey = "a", SecretKey = "s", ForcePathStyle = true };
        using var storage = new ProfefeS3ProfileStorage(options);
        var meta = new ProfileMeta(ProfileId.NewId(BaseTime), ProfileType.Cpu, "svc", [new Label("k", new string('v', 1_000))], BaseTime);

        var exception = await Assert.ThrowsAsync<ProfileRequestException>(() => storage.WriteProfileAsync(meta, new byte[10], Token));

        Assert.Equal(400, exception.StatusCode);
        Assert.Contains("1024", exception.Message, StringComparison.Ordinal);
    }

    private static ProfileQuery Query(string service) => new(service, null, [], DateTime.MinValue, DateTime.MaxValue);

    private static async Task PutAsync(S3StorageOptions options, string key, byte[] data)
    {
        using var client = S3ClientFactory.Create(options);
        using var body = new MemoryStream(data);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = key, InputStream = body }, Token);
    }
}
