using Amazon.S3.Model;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Testing;
using Profefe.Testing.Servers;

namespace Profefe.Storage.S3.Tests;

public sealed class S3ProfileBlobStoreTests(CephRgwServerFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Put_ThenGet_ReturnsTheBytesUnderPrefixAndId()
    {
        var options = await CephTestBucket.CreateAsync(fixture.Require());
        using var store = new S3ProfileBlobStore(options);
        var id = NewKey(DateTime.UtcNow);
        var data = RandomBytes(70_001);

        await store.PutAsync(id, data, Token);

        Assert.Equal(data, await store.GetAsync(id, Token));
        using var client = S3ClientFactory.Create(options);
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket }, Token);
        Assert.Equal(["profiles/" + id.Id], listed.S3Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task Put_EmptyBody_RoundTripsAsEmpty()
    {
        using var store = new S3ProfileBlobStore(await CephTestBucket.CreateAsync(fixture.Require()));
        var id = NewKey(DateTime.UtcNow);

        await store.PutAsync(id, ReadOnlyMemory<byte>.Empty, Token);

        Assert.Empty(Assert.IsType<byte[]>(await store.GetAsync(id, Token)));
    }

    [Fact]
    public async Task Get_UnknownId_ReturnsNull()
    {
        using var store = new S3ProfileBlobStore(await CephTestBucket.CreateAsync(fixture.Require()));

        Assert.Null(await store.GetAsync(NewKey(DateTime.UtcNow), Token));
    }

    [Fact]
    public async Task Put_LargeBody_IsOnePutAndRoundTrips()
    {
        var options = await CephTestBucket.CreateAsync(fixture.Require());
        using var store = new S3ProfileBlobStore(options);
        var id = NewKey(DateTime.UtcNow);
        var data = RandomBytes(20 * 1024 * 1024 + 123);

        await store.PutAsync(id, data, Token);

        var stored = await store.GetAsync(id, Token);
        Assert.True(data.AsSpan().SequenceEqual(stored));
        using var client = S3ClientFactory.Create(options);
        var head = await client.GetObjectMetadataAsync(options.Bucket, store.KeyOf(id), Token);
        // A single PUT's ETag is the body's MD5; a multipart object's ends in "-<part count>".
        Assert.DoesNotContain("-", head.ETag, StringComparison.Ordinal);
        var uploads = await client.ListMultipartUploadsAsync(options.Bucket, Token);
        Assert.Empty(uploads.MultipartUploads ?? []);
    }

    [Fact]
    public async Task Put_SdkDefaultChecksums_AreRejectedByCeph16_WhenRequiredWorks()
    {
        // Why S3ChecksumMode.WhenRequired is the default: the SDK's trailing CRC32 fails against this RGW.
        var server = fixture.Require();
        using var whenSupported = new S3ProfileBlobStore(await CephTestBucket.CreateAsync(server, static o => o.ChecksumMode = S3ChecksumMode.WhenSupported));
        using var whenRequired = new S3ProfileBlobStore(await CephTestBucket.CreateAsync(server));
        var id = NewKey(DateTime.UtcNow);

        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => whenSupported.PutAsync(id, RandomBytes(1000), Token));
        await whenRequired.PutAsync(id, RandomBytes(1000), Token);

        Assert.Equal("s3", failure.Dependency);
        Assert.Contains("XAmzContentSHA256Mismatch", failure.Message, StringComparison.Ordinal);
        Assert.NotNull(await whenRequired.GetAsync(id, Token));
    }

    [Fact]
    public async Task Delete_ManyIds_RemovesThemAndIgnoresMissingOnes()
    {
        using var store = new S3ProfileBlobStore(await CephTestBucket.CreateAsync(fixture.Require()));
        var ids = Enumerable.Range(0, 30).Select(_ => NewKey(DateTime.UtcNow)).ToList();
        await Parallel.ForEachAsync(ids, Token, async (id, ct) => await store.PutAsync(id, RandomBytes(10), ct));
        var kept = ids[^1];

        await store.DeleteAsync([.. ids[..^1], NewKey(DateTime.UtcNow)], Token);

        Assert.Null(await store.GetAsync(ids[0], Token));
        Assert.Null(await store.GetAsync(ids[^2], Token));
        Assert.NotNull(await store.GetAsync(kept, Token));
    }

    [Fact]
    public async Task ListWrittenBefore_ReturnsOnlyOlderIdsAndSkipsForeignKeys()
    {
        var options = await CephTestBucket.CreateAsync(fixture.Require());
        using var store = new S3ProfileBlobStore(options);
        var now = DateTime.UtcNow;
        var old = NewKey(now.AddMinutes(-5));
        var future = NewKey(now.AddHours(1));
        await store.PutAsync(old, RandomBytes(10), Token);
        await store.PutAsync(future, RandomBytes(10), Token);
        using (var client = S3ClientFactory.Create(options))
        {
            await client.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = "profiles/README", ContentBody = "not a profile" }, Token);
        }

        // Objects are stamped by the server when written, i.e. now: a cutoff in a minute finds the old id only
        // (the future one stops the listing), a cutoff in the past finds nothing.
        Assert.Equal([old], await CollectAsync(store.ListWrittenBeforeAsync(now.AddMinutes(1), Token)));
        Assert.Empty(await CollectAsync(store.ListWrittenBeforeAsync(now.AddMinutes(-1), Token)));
    }

    [Fact]
    public async Task ListWrittenBefore_LeavesOutObjectsYoungerThanOrphanMinAge()
    {
        using var store = new S3ProfileBlobStore(await CephTestBucket.CreateAsync(fixture.Require(), static o => o.OrphanMinAge = TimeSpan.FromMinutes(10)));
        var id = NewKey(DateTime.UtcNow.AddMinutes(-30));
        await store.PutAsync(id, RandomBytes(10), Token);

        Assert.Empty(await CollectAsync(store.ListWrittenBeforeAsync(DateTime.UtcNow.AddMinutes(1), Token)));
    }

    [Fact]
    public async Task Requests_WrongBucket_ThrowStorageUnavailableNamingS3AndTheBucket()
    {
        var options = await CephTestBucket.CreateAsync(fixture.Require(), static o => o.Bucket = "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8]);
        using var store = new S3ProfileBlobStore(options);

        var put = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.PutAsync(NewKey(DateTime.UtcNow), RandomBytes(10), Token));
        var get = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.GetAsync(NewKey(DateTime.UtcNow), Token));

        Assert.All(new[] { put, get }, e => Assert.Equal("s3", e.Dependency));
        Assert.Contains("NoSuchBucket", put.Message, StringComparison.Ordinal);
        Assert.Contains(options.Bucket, put.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_NothingListening_ThrowStorageUnavailableNamingS3()
    {
        using var store = new S3ProfileBlobStore(new S3StorageOptions
        {
            ServiceUrl = $"http://127.0.0.1:{FreePort.Next()}",
            Bucket = "b",
            AccessKey = "a",
            SecretKey = "s",
            ForcePathStyle = true,
            MaxErrorRetry = 1,
            ConnectTimeout = TimeSpan.FromSeconds(1),
            Timeout = TimeSpan.FromSeconds(2),
        });

        var put = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.PutAsync(NewKey(DateTime.UtcNow), RandomBytes(10), Token));
        var delete = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.DeleteAsync([NewKey(DateTime.UtcNow)], Token));

        Assert.All(new[] { put, delete }, e => Assert.Equal("s3", e.Dependency));
    }

    [Fact]
    public async Task Put_Cancelled_ThrowsOperationCanceled()
    {
        using var store = new S3ProfileBlobStore(await CephTestBucket.CreateAsync(fixture.Require()));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PutAsync(NewKey(DateTime.UtcNow), RandomBytes(10), cancelled.Token));
    }

    [Fact]
    public async Task ListWrittenBefore_ListsEveryTenantsOldKeys_EachUnderItsTenant()
    {
        var options = await CephTestBucket.CreateAsync(fixture.Require());
        using var store = new S3ProfileBlobStore(options);
        var now = DateTime.UtcNow;
        var tenantA = TenantId.Parse("team-a");
        var tenantB = TenantId.Parse("Team.B");
        var oldDefault = NewKey(now.AddMinutes(-5));
        var oldA = NewKey(now.AddMinutes(-5), tenantA);
        var futureA = NewKey(now.AddHours(1), tenantA);
        var oldB = NewKey(now.AddMinutes(-4), tenantB);
        foreach (var key in new[] { oldDefault, oldA, futureA, oldB })
        {
            await store.PutAsync(key, RandomBytes(10), Token);
        }

        var listed = await CollectAsync(store.ListWrittenBeforeAsync(now.AddMinutes(1), Token));

        Assert.Equal(3, listed.Count);
        Assert.Equal(new HashSet<ProfileKey> { oldDefault, oldA, oldB }, listed.ToHashSet());
        Assert.Equal(options.Prefix + "~tenants/team-a/" + oldA.Id, store.KeyOf(oldA));
        Assert.Equal(options.Prefix + oldDefault.Id, store.KeyOf(oldDefault));
        Assert.Null(await store.GetAsync(oldA with { Tenant = tenantB }, Token));
        Assert.NotNull(await store.GetAsync(oldA, Token));
    }

    private static ProfileKey NewKey(DateTime time, TenantId tenant = default) => new(tenant, ProfileId.NewId(time));

    private static async Task<List<ProfileKey>> CollectAsync(IAsyncEnumerable<IReadOnlyList<ProfileKey>> pages)
    {
        var ids = new List<ProfileKey>();
        await foreach (var page in pages)
        {
            ids.AddRange(page);
        }

        return ids;
    }

    private static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        return data;
    }
}
