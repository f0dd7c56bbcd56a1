using System.Runtime.CompilerServices;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Storage.S3;

/// <summary>
/// Profile bytes in an S3 bucket, one object per profile at key <c>{Prefix}{profile id}</c>, e.g.
/// "profefe/cbm1q9r4ogc1q0s8k9s0". Ids begin with their arrival time and sort by it as strings, and S3 lists keys
/// in order, so retention finds the objects older than a cutoff by listing from the start and stopping at the
/// first younger one: each pass reads only what it deletes. The service and labels stay out of the key: reads go
/// by id through the index, and a key never has to change or be escaped.
/// </summary>
public sealed class S3ProfileBlobStore : IProfileBlobStore, IProfileStorageReadiness, IDisposable
{
    // DeleteObjects takes at most 1,000 keys, ListObjectsV2 answers at most 1,000.
    private const int MaxKeysPerRequest = 1000;
    private const string TenantsFolder = "~tenants/";

    private readonly S3Bucket _bucket;
    private readonly S3StorageOptions _options;
    private readonly TimeProvider _timeProvider;

    public S3ProfileBlobStore(S3StorageOptions options, ILogger<S3ProfileBlobStore>? logger = null, TimeProvider? timeProvider = null)
    {
        _bucket = new S3Bucket(options, logger, Log.Unavailable);
        _options = _bucket.Options;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public string Bucket => _options.Bucket;

    /// <summary>
    /// The default tenant's objects are named by id right under the prefix, as before tenants existed; every other
    /// tenant's sit under "~tenants/{tenant}/". '~' sorts after every character of an id, so a listing of the
    /// default tenant's ids by arrival never runs into another tenant's.
    /// </summary>
    public string KeyOf(ProfileKey key) => PrefixOf(key.Tenant) + key.Id.ToString();

    private string PrefixOf(TenantId tenant) => tenant.IsDefault ? _options.Prefix : _options.Prefix + TenantsFolder + tenant.Key + "/";

    public Task PutAsync(ProfileKey key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _bucket.PutObjectAsync(KeyOf(key), data, cancellationToken);

    public Task<byte[]?> GetAsync(ProfileKey key, CancellationToken cancellationToken) =>
        _bucket.GetObjectAsync(KeyOf(key), null, cancellationToken);

    public async Task<byte[]?[]> GetManyAsync(IReadOnlyList<ProfileKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new byte[]?[keys.Count];
        await Parallel.ForAsync(0, keys.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentRequests, CancellationToken = cancellationToken },
            async (i, ct) => found[i] = await GetAsync(keys[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        return found;
    }

    public Task DeleteAsync(IReadOnlyList<ProfileKey> keys, CancellationToken cancellationToken) =>
        _bucket.DeleteObjectsAsync(keys, KeyOf, cancellationToken);

    public async IAsyncEnumerable<IReadOnlyList<ProfileKey>> ListWrittenBeforeAsync(DateTime cutoff, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var youngest = _timeProvider.GetUtcNow().UtcDateTime - _options.OrphanMinAge;
        if (cutoff.ToUniversalTime() < youngest)
        {
            youngest = cutoff.ToUniversalTime();
        }

        await foreach (var page in ListTenantWrittenBeforeAsync(TenantId.Default, youngest, cancellationToken).ConfigureAwait(false))
        {
            yield return page;
        }

        // Each tenant's keys sort by arrival under its own folder, so each listing stops at its first young key.
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _options.Prefix + TenantsFolder, Delimiter = "/", MaxKeys = MaxKeysPerRequest };
        while (true)
        {
            var response = await ListPageAsync(request, cancellationToken).ConfigureAwait(false);
            foreach (var folder in response.CommonPrefixes ?? [])
            {
                if (TenantId.TryParse(folder[request.Prefix.Length..^1], out var tenant, out _) && !tenant.IsDefault)
                {
                    await foreach (var page in ListTenantWrittenBeforeAsync(tenant, youngest, cancellationToken).ConfigureAwait(false))
                    {
                        yield return page;
                    }
                }
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    private IAsyncEnumerable<IReadOnlyList<ProfileKey>> ListTenantWrittenBeforeAsync(TenantId tenant, DateTime youngest, CancellationToken cancellationToken) =>
        _bucket.ListMadeBeforeAsync(PrefixOf(tenant), null, youngest, (ReadOnlySpan<char> name, out ProfileKey key, out DateTime made) =>
        {
            var parsed = ProfileId.TryParse(name, out var id);
            key = new ProfileKey(tenant, id);
            made = id.Timestamp;
            return parsed;
        }, resumable: false, cancellationToken);

    public Task CheckReadyAsync(CancellationToken cancellationToken) => _bucket.CheckReadyAsync(cancellationToken);

    public void Dispose() => _bucket.Dispose();

    private Task<ListObjectsV2Response> ListPageAsync(ListObjectsV2Request request, CancellationToken cancellationToken) => _bucket.ListPageAsync(request, cancellationToken);

    private StorageUnavailableException? Unavailable(Exception exception, CancellationToken cancellationToken, S3RequestDeadline? deadline = null) =>
        _bucket.Unavailable(exception, cancellationToken, deadline);
}
