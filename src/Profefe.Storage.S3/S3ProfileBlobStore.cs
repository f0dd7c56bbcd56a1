using System.Runtime.CompilerServices;
using Amazon.S3;
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
    private readonly IAmazonS3 _client;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;

    public S3ProfileBlobStore(S3StorageOptions options, ILogger<S3ProfileBlobStore>? logger = null, TimeProvider? timeProvider = null)
    {
        _bucket = new S3Bucket(options, logger, Log.Unavailable);
        _options = _bucket.Options;
        _client = _bucket.Client;
        _logger = _bucket.Logger;
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

    public async Task DeleteAsync(IReadOnlyList<ProfileKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        for (var start = 0; start < keys.Count; start += MaxKeysPerRequest)
        {
            var count = Math.Min(MaxKeysPerRequest, keys.Count - start);
            var names = new List<string>(count);
            for (var i = start; i < start + count; i++)
            {
                names.Add(KeyOf(keys[i]));
            }

            // Whatever is left is found again by the next retention pass as an orphan.
            var errors = await S3ObjectDeleter.DeleteAsync(_client, _options, names, (e, deadline) => Unavailable(e, cancellationToken, deadline), _logger, cancellationToken)
                .ConfigureAwait(false);
            if (errors.Count > 0)
            {
                throw S3ObjectDeleter.PartialFailure(_options.Bucket, errors);
            }
        }
    }

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

    private async IAsyncEnumerable<IReadOnlyList<ProfileKey>> ListTenantWrittenBeforeAsync(
        TenantId tenant, DateTime youngest, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = PrefixOf(tenant);
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = prefix, MaxKeys = MaxKeysPerRequest };
        while (true)
        {
            var response = await ListPageAsync(request, cancellationToken).ConfigureAwait(false);

            var page = new List<ProfileKey>();
            var done = false;
            foreach (var item in response.S3Objects ?? [])
            {
                if (!ProfileId.TryParse(item.Key.AsSpan(prefix.Length), out var id))
                {
                    // Not ours (a key of another layout sharing the prefix): never touched.
                    continue;
                }

                if (id.Timestamp >= youngest)
                {
                    // Keys sort by arrival: every later key is younger still.
                    done = true;
                    break;
                }

                if (item.LastModified is { } modified && modified.ToUniversalTime() < youngest)
                {
                    page.Add(new ProfileKey(tenant, id));
                }
            }

            if (page.Count > 0)
            {
                yield return page;
            }

            if (done || response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    public Task CheckReadyAsync(CancellationToken cancellationToken) => _bucket.CheckReadyAsync(cancellationToken);

    public void Dispose() => _bucket.Dispose();

    private Task<ListObjectsV2Response> ListPageAsync(ListObjectsV2Request request, CancellationToken cancellationToken) => _bucket.ListPageAsync(request, cancellationToken);

    private StorageUnavailableException? Unavailable(Exception exception, CancellationToken cancellationToken, S3RequestDeadline? deadline = null) =>
        _bucket.Unavailable(exception, cancellationToken, deadline);
}
