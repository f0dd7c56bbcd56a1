using System.Runtime.CompilerServices;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Profefe.Core.Storage.Segments;

namespace Profefe.Storage.S3;

/// <summary>
/// Segment objects in an S3 bucket, at <c>{Prefix}~segments/{segment id}</c>. Segment ids begin with their
/// creation time and S3 lists keys in order, so the orphan sweep lists from the start and stops at the first
/// segment younger than it looks for. "~" keeps the folder apart from (and sorted after) one-object-per-profile
/// keys sharing the prefix, which <see cref="S3ProfileBlobStore"/> never mistakes for its own.
/// </summary>
public sealed class S3SegmentObjectStore : ISegmentObjectStore, IDisposable
{
    private const int MaxKeysPerRequest = 1000;
    private const string SegmentsFolder = "~segments/";

    private readonly S3Bucket _bucket;

    public S3SegmentObjectStore(S3StorageOptions options, ILogger<S3SegmentObjectStore>? logger = null)
    {
        _bucket = new S3Bucket(options, logger, Log.Unavailable);
    }

    public TimeSpan OrphanGrace => _bucket.Options.OrphanMinAge;

    public string KeyOf(SegmentId id) => _bucket.Options.Prefix + SegmentsFolder + id.ToString();

    public Task PutAsync(SegmentId id, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _bucket.PutObjectAsync(KeyOf(id), data, cancellationToken);

    public async Task<byte[]?[]> GetRangesAsync(IReadOnlyList<SegmentRange> ranges, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var found = new byte[]?[ranges.Count];
        await Parallel.ForAsync(0, ranges.Count, new ParallelOptions { MaxDegreeOfParallelism = _bucket.Options.MaxConcurrentRequests, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var range = ranges[i];
                // An empty range has no byte to ask for (HTTP ranges are inclusive).
                found[i] = range.Length == 0
                    ? []
                    : await _bucket.GetObjectAsync(KeyOf(range.Segment), new ByteRange(range.Offset, range.Offset + range.Length - 1), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return found;
    }

    public async Task DeleteAsync(IReadOnlyList<SegmentId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        for (var start = 0; start < ids.Count; start += MaxKeysPerRequest)
        {
            var names = new List<string>(Math.Min(MaxKeysPerRequest, ids.Count - start));
            for (var i = start; i < ids.Count && i < start + MaxKeysPerRequest; i++)
            {
                names.Add(KeyOf(ids[i]));
            }

            var errors = await S3ObjectDeleter.DeleteAsync(_bucket.Client, _bucket.Options, names, (e, deadline) => _bucket.Unavailable(e, cancellationToken, deadline), _bucket.Logger, cancellationToken)
                .ConfigureAwait(false);
            if (errors.Count > 0)
            {
                throw S3ObjectDeleter.PartialFailure(_bucket.Options.Bucket, errors);
            }
        }
    }

    public async IAsyncEnumerable<IReadOnlyList<SegmentId>> ListAsync(SegmentId? after, DateTime before, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var youngest = before.ToUniversalTime();
        var prefix = _bucket.Options.Prefix + SegmentsFolder;
        var request = new ListObjectsV2Request
        {
            BucketName = _bucket.Options.Bucket,
            Prefix = prefix,
            MaxKeys = MaxKeysPerRequest,
            StartAfter = after is { } start ? KeyOf(start) : null,
        };
        while (true)
        {
            var response = await _bucket.ListPageAsync(request, cancellationToken).ConfigureAwait(false);
            var page = new List<SegmentId>();
            var done = false;
            foreach (var item in response.S3Objects ?? [])
            {
                if (!SegmentId.TryParse(item.Key.AsSpan(prefix.Length), out var id))
                {
                    continue;
                }

                if (id.Timestamp >= youngest)
                {
                    done = true;
                    break;
                }

                if (item.LastModified is { } modified && modified.ToUniversalTime() < youngest)
                {
                    page.Add(id);
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

    public void Dispose() => _bucket.Dispose();
}
