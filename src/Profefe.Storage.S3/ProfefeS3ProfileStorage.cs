using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Storage.S3;

/// <summary>
/// "S3 alone, in profefe's layout": every profile is one object named as profefe's own S3 storage names it
/// (see <see cref="ProfefeS3KeyCodec"/>), so this collector reads any bucket profefe filled and profefe reads what
/// this collector writes. There is no index: the keys are the index, and each question is answered by listing
/// them, as profefe does. What each costs is said at each method; a list request returns up to 1,000 keys.
/// </summary>
/// <remarks>
/// <para>
/// A profile's id is the xid in its key. The key also holds the service, type and labels, which a bare id does
/// not tell, so a read by id first finds the key: from a cache of keys this instance has written, found or read,
/// else by listing the exact key prefix under each service and type. Stateless apart from that cache, so any
/// number of collectors can share a bucket.
/// </para>
/// <para>
/// Where this differs from profefe on S3: profefe's API hands out the whole key as the id (base32 of the key,
/// dozens of characters); ours is the key's 20-character xid, like every other backend's, so ids profefe's own
/// S3 API gave out are not accepted here. The xid of a key this collector writes is the profile id, which tells
/// the arrival; profefe reads an xid as created_at, so profefe shows and filters our profiles by their arrival
/// second. We keep the real created_at (and a service containing '/', which profefe's keys turn into "__") in
/// the key's extension chunk that profefe skips.
/// </para>
/// <para>
/// profefe's layout has no place for a tenant: the bucket is the default tenant's. Other tenants' reads find
/// nothing and their pushes are refused (400); they need a backend that keys by tenant (local, postgres,
/// s3+postgres).
/// </para>
/// </remarks>
public sealed class ProfefeS3ProfileStorage
    : IProfileWriter, IProfileReader, IProfileRetention, IProfileStorageStatistics, IProfileStorageReadiness, IDisposable
{
    // ListObjectsV2 answers at most 1,000 keys, DeleteObjects takes at most 1,000.
    private const int MaxKeysPerRequest = 1000;

    // Beyond this many list requests, reading the whole bucket once is the cheaper way to find ids.
    private const int MaxPointLookupRequests = 256;

    // S3's limit on a key's length, in UTF-8 bytes.
    private const int MaxKeyBytes = 1024;

    // Keys remembered per instance (about 200 bytes each); the cache starts over when full.
    private const int MaxCachedKeys = 200_000;

    private static readonly TimeSpan StatisticsMaxAge = TimeSpan.FromMinutes(1);

    private readonly S3Bucket _bucket;
    private readonly S3StorageOptions _options;
    private readonly IAmazonS3 _client;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly string _root;
    private readonly ConcurrentDictionary<ProfileId, string> _keys = new();
    private readonly SemaphoreSlim _statisticsLock = new(1, 1);
    private volatile CachedStatistics? _statistics;

    public ProfefeS3ProfileStorage(S3StorageOptions options, ILogger<ProfefeS3ProfileStorage>? logger = null, TimeProvider? timeProvider = null)
    {
        _bucket = new S3Bucket(options, logger, Log.LayoutUnavailable);
        _options = _bucket.Options;
        _client = _bucket.Client;
        _logger = _bucket.Logger;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _root = options.Prefix + ProfefeS3KeyCodec.SchemaPrefix;
    }

    public string Bucket => _options.Bucket;

    /// <summary>The object key of <paramref name="meta"/>'s profile.</summary>
    public string KeyOf(ProfileMeta meta) => _options.Prefix + ProfefeS3KeyCodec.CreateKey(meta);

    /// <summary>One PUT; the object is complete or absent, never partial.</summary>
    public async Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meta);
        if (!meta.Tenant.IsDefault)
        {
            throw ProfileRequestException.BadRequest(
                $"tenant \"{meta.Tenant}\" cannot push here: profefe's S3 layout (Storage:Type s3) holds only the default tenant; use s3+postgres for tenants");
        }

        var key = KeyOf(meta);
        var keyBytes = System.Text.Encoding.UTF8.GetByteCount(key);
        if (keyBytes > MaxKeyBytes)
        {
            // The client can fix this (fewer or shorter labels); the object storage is not at fault.
            throw ProfileRequestException.BadRequest(
                $"service and labels are too long for profefe's S3 layout: the object key would have {keyBytes} bytes, at most {MaxKeyBytes} fit");
        }

        var bytes = MemoryMarshal.TryGetArray(data, out var segment) && segment.Array is not null ? segment : new ArraySegment<byte>(data.ToArray());
        using var deadline = Deadline(cancellationToken);
        try
        {
            using var body = new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false);
            var request = new PutObjectRequest
            {
                BucketName = _options.Bucket,
                Key = key,
                InputStream = body,
                AutoCloseStream = false,
                ContentType = "application/octet-stream",
            };
            // The metadata profefe attaches; nothing reads it, but a bucket should look the same whoever wrote it.
            // Header values must be ASCII, hence the escaping (a no-op for the usual service names).
            request.Metadata.Add("service", ProfefeS3KeyCodec.QueryEscape(meta.Service));
            request.Metadata.Add("type", ProfileTypeNames.ToWireName(meta.Type));
            request.Metadata.Add("labels", EncodeLabels(meta.Labels));
            request.Metadata.Add("created_at", meta.CreatedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            await _client.PutObjectAsync(request, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (Unavailable(exception, deadline, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }

        Remember(meta.ProfileId, key);
    }

    /// <summary>
    /// Lists every key under <c>P0.&lt;service&gt;/</c> (or <c>…/&lt;type&gt;/</c>): one request per 1,000 profiles
    /// of the service, whatever the time range, as in profefe. Time and labels are filtered from the keys; no
    /// object is read. There is no early stop: the keys this collector writes sort by arrival, not created_at.
    /// </summary>
    public async Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var metas = new List<ProfileMeta>();
        if (!tenant.IsDefault || query.From > query.To || query.Service.Length == 0)
        {
            return metas;
        }

        var type = query.Type is { } wanted && wanted != ProfileType.Unknown ? wanted : (ProfileType?)null;
        var prefix = _options.Prefix + (type is { } t ? ProfefeS3KeyCodec.TypePrefix(query.Service, t) : ProfefeS3KeyCodec.ServicePrefix(query.Service));
        await foreach (var item in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (!TryParse(item.Key, out var parsed))
            {
                continue;
            }

            var meta = parsed.Meta;
            if (meta.Service != query.Service
                || (type is not null && meta.Type != type)
                || meta.CreatedAt < query.From || meta.CreatedAt > query.To
                || !LabelFilter.HasEvery(meta.Labels, query.Labels))
            {
                continue;
            }

            Remember(meta.ProfileId, item.Key);
            metas.Add(meta);
        }

        metas.Sort(static (a, b) =>
        {
            var byTime = a.CreatedAt.CompareTo(b.CreatedAt);
            return byTime != 0 ? byTime : a.ProfileId.CompareTo(b.ProfileId);
        });
        if (query.Limit > 0 && metas.Count > query.Limit)
        {
            metas.RemoveRange(0, metas.Count - query.Limit);
        }

        return metas;
    }

    /// <summary>
    /// One GET per profile (several at once, within <see cref="S3StorageOptions.MaxConcurrentRequests"/>), after
    /// finding the keys of ids this instance has not seen: see <see cref="FindKeysAsync"/>.
    /// </summary>
    public async IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0 || !tenant.IsDefault)
        {
            yield break;
        }

        var keys = await FindKeysAsync(ids, cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var window = new Queue<Task<StoredProfile?>>();
        var next = 0;
        try
        {
            while (next < ids.Count || window.Count > 0)
            {
                while (window.Count < _options.MaxConcurrentRequests && next < ids.Count)
                {
                    var id = ids[next++];
                    window.Enqueue(keys.TryGetValue(id, out var key) ? ReadAsync(id, key, stop.Token) : Task.FromResult<StoredProfile?>(null));
                }

                if (await window.Dequeue().ConfigureAwait(false) is { } profile)
                {
                    yield return profile;
                }
            }
        }
        finally
        {
            // A caller that stops early leaves reads in flight: cancel them and let them finish quietly.
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var pending in window)
            {
                await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// One request per 1,000 services (a delimiter listing of <c>P0.</c>, as profefe). A service whose key segment
    /// contains "__" may be a service with '/' (profefe writes '/' as "__"): its keys are listed to learn the name.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken)
    {
        var services = new SortedSet<string>(StringComparer.Ordinal);
        if (!tenant.IsDefault)
        {
            return [];
        }

        foreach (var segment in await ListServiceSegmentsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!segment.Contains("__", StringComparison.Ordinal))
            {
                services.Add(segment);
                continue;
            }

            var named = false;
            await foreach (var item in ListAsync(_root + segment + "/", cancellationToken).ConfigureAwait(false))
            {
                if (TryParse(item.Key, out var parsed))
                {
                    services.Add(parsed.Meta.Service);
                    named = true;
                }
            }

            if (!named)
            {
                services.Add(segment);
            }
        }

        return [.. services];
    }

    /// <summary>
    /// Lists every key of the service (of the whole bucket when null): one request per 1,000 profiles. The layout
    /// keeps no list of label values, so there is no cheaper way.
    /// </summary>
    public async Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken)
    {
        var labels = new LabelValuesBuilder();
        if (service is { Length: 0 } || !tenant.IsDefault)
        {
            return [];
        }

        var prefix = service is null ? _root : _options.Prefix + ProfefeS3KeyCodec.ServicePrefix(service);
        await foreach (var item in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (!TryParse(item.Key, out var parsed) || (service is not null && parsed.Meta.Service != service))
            {
                continue;
            }

            foreach (var label in parsed.Meta.Labels)
            {
                labels.Add(label.Key, label.Value);
            }
        }

        return labels.ToList();
    }

    /// <summary>
    /// Lists the whole layout (one request per 1,000 profiles) and deletes, 1,000 per request, the profiles that
    /// arrived before <paramref name="cutoff"/>: for keys this collector wrote, the arrival its meta records (as in
    /// every backend); for keys profefe wrote, the object's LastModified. Keys that are not profiles stay.
    /// </summary>
    public async Task<int> DeleteProfilesStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        if (cutoff == DateTime.MinValue)
        {
            // Retention is off (the pass only cleans up after crashes): nothing can be older, so list nothing.
            return 0;
        }

        var utcCutoff = cutoff.Kind == DateTimeKind.Local ? cutoff.ToUniversalTime() : cutoff;
        var batch = new List<(ProfileId Id, string Key)>(MaxKeysPerRequest);
        var deleted = 0;
        await foreach (var item in ListAsync(_root, cancellationToken).ConfigureAwait(false))
        {
            if (!TryParse(item.Key, out var parsed))
            {
                continue;
            }

            var storedAt = parsed.HasExtension || item.LastModified is not { } modified ? parsed.Meta.StoredAt : modified.ToUniversalTime();
            if (storedAt >= utcCutoff)
            {
                continue;
            }

            batch.Add((parsed.Meta.ProfileId, item.Key));
            if (batch.Count == MaxKeysPerRequest)
            {
                deleted += await DeleteAsync(batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            deleted += await DeleteAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        if (deleted > 0)
        {
            Log.LayoutRetentionDeleted(_logger, deleted, utcCutoff);
            // A full listing just happened: the statistics are due again.
            _statistics = null;
        }

        return deleted;
    }

    /// <summary>
    /// Counts by listing the whole layout (one request per 1,000 profiles), at most once a minute; callers in
    /// between get the last count. BytesOnDisk is the sum of the objects' sizes.
    /// </summary>
    public async Task<ProfileStorageStatistics> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        if (_statistics is { } cached && _timeProvider.GetUtcNow() - cached.At < StatisticsMaxAge)
        {
            return cached.Value;
        }

        await _statisticsLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_statistics is { } fresh && _timeProvider.GetUtcNow() - fresh.At < StatisticsMaxAge)
            {
                return fresh.Value;
            }

            long count = 0;
            long bytes = 0;
            await foreach (var item in ListAsync(_root, cancellationToken).ConfigureAwait(false))
            {
                if (TryParse(item.Key, out _))
                {
                    count++;
                    bytes += item.Size ?? 0;
                }
            }

            var value = new ProfileStorageStatistics(count, bytes);
            _statistics = new CachedStatistics(value, _timeProvider.GetUtcNow());
            return value;
        }
        finally
        {
            _statisticsLock.Release();
        }
    }

    public Task CheckReadyAsync(CancellationToken cancellationToken) => _bucket.CheckReadyAsync(cancellationToken);

    public void Dispose()
    {
        _statisticsLock.Dispose();
        _bucket.Dispose();
    }

    /// <summary>
    /// The keys of <paramref name="ids"/> that exist. Ids this instance has seen cost nothing. For the others, one
    /// delimiter listing per 1,000 services, then per service one listing of its types and, per id and type, one
    /// listing of the exact key prefix <c>P0.&lt;service&gt;/&lt;type&gt;/&lt;id&gt;</c>; when that would take more than
    /// 256 requests (many services or many unseen ids, e.g. a merge of profiles another collector found), one
    /// listing of the whole layout instead (one request per 1,000 profiles).
    /// </summary>
    private async Task<Dictionary<ProfileId, string>> FindKeysAsync(IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken)
    {
        var keys = new Dictionary<ProfileId, string>();
        var missing = new HashSet<ProfileId>();
        foreach (var id in ids)
        {
            if (_keys.TryGetValue(id, out var key))
            {
                keys[id] = key;
            }
            else
            {
                missing.Add(id);
            }
        }

        if (missing.Count == 0)
        {
            return keys;
        }

        var segments = await ListServiceSegmentsAsync(cancellationToken).ConfigureAwait(false);
        var requests = 1 + (segments.Count / MaxKeysPerRequest);
        if (segments.Count <= MaxPointLookupRequests / 2)
        {
            var prefixes = new List<(string Segment, ProfileType Type)>();
            foreach (var segment in segments)
            {
                foreach (var typeSegment in await ListSegmentsAsync(_root + segment + "/", cancellationToken).ConfigureAwait(false))
                {
                    if (int.TryParse(typeSegment, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
                        && ProfefeS3KeyCodec.TypeFromNumber(number) is { } type)
                    {
                        prefixes.Add((segment, type));
                    }
                }
            }

            requests += segments.Count;
            if (requests + (missing.Count * prefixes.Count) <= MaxPointLookupRequests)
            {
                requests += missing.Count * prefixes.Count;
                var found = new ConcurrentDictionary<ProfileId, string>();
                var lookups = new List<(ProfileId Id, string Prefix)>();
                foreach (var id in missing)
                {
                    foreach (var (segment, type) in prefixes)
                    {
                        lookups.Add((id, _options.Prefix + ProfefeS3KeyCodec.IdPrefix(segment, type, id)));
                    }
                }

                await Parallel.ForEachAsync(lookups, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentRequests, CancellationToken = cancellationToken }, async (lookup, ct) =>
                {
                    await foreach (var item in ListAsync(lookup.Prefix, 2, ct).ConfigureAwait(false))
                    {
                        if (TryParse(item.Key, out var parsed) && parsed.Meta.ProfileId == lookup.Id)
                        {
                            found.TryAdd(lookup.Id, item.Key);
                        }
                    }
                }).ConfigureAwait(false);
                foreach (var (id, key) in found)
                {
                    keys[id] = key;
                    Remember(id, key);
                }

                Log.IdsLookedUp(_logger, missing.Count, requests, found.Count);
                return keys;
            }
        }

        var listed = 0;
        await foreach (var item in ListAsync(_root, cancellationToken).ConfigureAwait(false))
        {
            listed++;
            if (TryParse(item.Key, out var parsed) && missing.Contains(parsed.Meta.ProfileId))
            {
                keys[parsed.Meta.ProfileId] = item.Key;
                Remember(parsed.Meta.ProfileId, item.Key);
            }
        }

        Log.IdsLookedUp(_logger, missing.Count, requests + 1 + (listed / MaxKeysPerRequest), keys.Count - (ids.Count - missing.Count));
        return keys;
    }

    private async Task<StoredProfile?> ReadAsync(ProfileId id, string key, CancellationToken cancellationToken)
    {
        if (!TryParse(key, out var parsed) || parsed.Meta.ProfileId != id)
        {
            return null;
        }

        using var deadline = Deadline(cancellationToken);
        try
        {
            using var response = await _client.GetObjectAsync(_options.Bucket, key, deadline.Token).ConfigureAwait(false);
            var length = response.ContentLength;
            byte[] data;
            if (length >= 0 && length <= Array.MaxLength)
            {
                data = new byte[length];
                await response.ResponseStream.ReadExactlyAsync(data, deadline.Token).ConfigureAwait(false);
            }
            else
            {
                using var buffer = new MemoryStream();
                await response.ResponseStream.CopyToAsync(buffer, deadline.Token).ConfigureAwait(false);
                data = buffer.ToArray();
            }

            return new StoredProfile(parsed.Meta, data);
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == HttpStatusCode.NotFound && exception.ErrorCode is "NoSuchKey" or null or "")
        {
            // Deleted since it was listed (retention of another collector): unknown now.
            _keys.TryRemove(new KeyValuePair<ProfileId, string>(id, key));
            return null;
        }
        catch (Exception exception) when (Unavailable(exception, deadline, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    private async Task<int> DeleteAsync(List<(ProfileId Id, string Key)> batch, CancellationToken cancellationToken)
    {
        var keys = new List<string>(batch.Count);
        foreach (var (_, key) in batch)
        {
            keys.Add(key);
        }

        var errors = await S3ObjectDeleter.DeleteAsync(_client, _options, keys, (e, deadline) => Unavailable(e, deadline, cancellationToken), _logger, cancellationToken)
            .ConfigureAwait(false);
        foreach (var (id, key) in batch)
        {
            _keys.TryRemove(new KeyValuePair<ProfileId, string>(id, key));
        }

        return errors.Count > 0 ? throw S3ObjectDeleter.PartialFailure(_options.Bucket, errors) : batch.Count;
    }

    private async Task<List<string>> ListServiceSegmentsAsync(CancellationToken cancellationToken) =>
        await ListSegmentsAsync(_root, cancellationToken).ConfigureAwait(false);

    /// <summary>The distinct path segments right after <paramref name="prefix"/> (a delimiter listing).</summary>
    private async Task<List<string>> ListSegmentsAsync(string prefix, CancellationToken cancellationToken)
    {
        var segments = new List<string>();
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = prefix, Delimiter = "/", MaxKeys = MaxKeysPerRequest };
        while (true)
        {
            var response = await ListPageAsync(request, cancellationToken).ConfigureAwait(false);
            foreach (var common in response.CommonPrefixes ?? [])
            {
                if (common.Length > prefix.Length + 1)
                {
                    segments.Add(common[prefix.Length..^1]);
                }
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                return segments;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    private IAsyncEnumerable<S3Object> ListAsync(string prefix, CancellationToken cancellationToken) =>
        ListAsync(prefix, MaxKeysPerRequest, cancellationToken);

    private async IAsyncEnumerable<S3Object> ListAsync(string prefix, int maxKeys, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = prefix, MaxKeys = maxKeys };
        while (true)
        {
            var response = await ListPageAsync(request, cancellationToken).ConfigureAwait(false);
            foreach (var item in response.S3Objects ?? [])
            {
                yield return item;
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    private Task<ListObjectsV2Response> ListPageAsync(ListObjectsV2Request request, CancellationToken cancellationToken) => _bucket.ListPageAsync(request, cancellationToken);

    private bool TryParse(string key, out ProfefeS3Key parsed)
    {
        parsed = null!;
        if (!key.StartsWith(_options.Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        if (ProfefeS3KeyCodec.TryParseKey(key[_options.Prefix.Length..], out parsed, out var error))
        {
            return true;
        }

        Log.KeySkipped(_logger, key, error);
        return false;
    }

    private void Remember(ProfileId id, string key)
    {
        if (_keys.Count >= MaxCachedKeys)
        {
            _keys.Clear();
        }

        _keys[id] = key;
    }

    /// <summary>profefe's Labels.String(): the pairs as they are in the key.</summary>
    private static string EncodeLabels(IReadOnlyList<Label> labels)
    {
        var parts = new string[labels.Count];
        for (var i = 0; i < labels.Count; i++)
        {
            parts[i] = ProfefeS3KeyCodec.QueryEscape(labels[i].Key) + "=" + ProfefeS3KeyCodec.QueryEscape(labels[i].Value);
        }

        return string.Join(',', parts);
    }

    private S3RequestDeadline Deadline(CancellationToken cancellationToken) => _bucket.Deadline(cancellationToken);

    private StorageUnavailableException? Unavailable(Exception exception, S3RequestDeadline deadline, CancellationToken cancellationToken) =>
        _bucket.Unavailable(exception, cancellationToken, deadline);

    private sealed record CachedStatistics(ProfileStorageStatistics Value, DateTimeOffset At);
}
