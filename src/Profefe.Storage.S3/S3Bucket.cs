using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Profefe.Core.Storage;

namespace Profefe.Storage.S3;

/// <summary>
/// What every S3 store does the same way with its bucket: the validated options and the SDK client it owns, the
/// deadline of one request, failures mapped to a 503 naming object storage (and logged with the store's event),
/// the paged listing and the readiness check.
/// </summary>
internal sealed class S3Bucket : IDisposable
{
    // ListObjectsV2 answers at most 1,000 keys.
    private const int MaxKeysPerRequest = 1000;

    private readonly Action<ILogger, string, Exception> _logUnavailable;

    public S3Bucket(S3StorageOptions options, ILogger? logger, Action<ILogger, string, Exception> logUnavailable)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Client = S3ClientFactory.Create(options);
        Logger = logger ?? NullLogger.Instance;
        _logUnavailable = logUnavailable;
    }

    public S3StorageOptions Options { get; }

    public IAmazonS3 Client { get; }

    public ILogger Logger { get; }

    public S3RequestDeadline Deadline(CancellationToken cancellationToken) => new(Options.EffectiveOperationTimeout, cancellationToken);

    /// <summary>The 503 <paramref name="exception"/> means, logged once; null when it is not an outage (the caller rethrows it).</summary>
    public StorageUnavailableException? Unavailable(Exception exception, CancellationToken cancellationToken, S3RequestDeadline? deadline = null)
    {
        var unavailable = S3Errors.ToUnavailable(exception, Options.Bucket, cancellationToken, deadline);
        if (unavailable is not null && !ReferenceEquals(unavailable, exception))
        {
            _logUnavailable(Logger, unavailable.Message, exception);
        }

        return unavailable;
    }

    /// <summary>Stores <paramref name="data"/> at <paramref name="key"/>; returns once it is durable.</summary>
    public async Task PutObjectAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var bytes = MemoryMarshal.TryGetArray(data, out var segment) && segment.Array is not null ? segment : new ArraySegment<byte>(data.ToArray());

        // One PUT, never a multipart upload: a profile is at most Collector:MaxDecompressedBytes (64 MiB by
        // default), a segment at most Storage:Segments:MaxBytes and an engine block smaller than the profiles it
        // holds, all far under S3's 5 GiB single-PUT limit, and a
        // multipart upload costs three requests and leaves parts behind when it fails halfway; the SDK retries a
        // failed PUT whole.
        using var deadline = Deadline(cancellationToken);
        try
        {
            using var body = new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false);
            await Client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Options.Bucket,
                Key = key,
                InputStream = body,
                AutoCloseStream = false,
                ContentType = "application/octet-stream",
            }, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken, deadline) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>
    /// Byte ranges of objects, fetched in parallel within <see cref="S3StorageOptions.MaxConcurrentRequests"/>: entry i
    /// is <paramref name="length"/>(i) bytes of <paramref name="key"/>(i) from <paramref name="offset"/>(i), or null when
    /// the object is gone.
    /// </summary>
    public async Task<byte[]?[]> GetRangesAsync<TRange>(
        IReadOnlyList<TRange> ranges, Func<TRange, string> key, Func<TRange, long> offset, Func<TRange, long> length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var found = new byte[]?[ranges.Count];
        await Parallel.ForAsync(0, ranges.Count, new ParallelOptions { MaxDegreeOfParallelism = Options.MaxConcurrentRequests, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var range = ranges[i];
                var start = offset(range);
                var count = length(range);
                // An empty range has no byte to ask for (HTTP ranges are inclusive).
                found[i] = count == 0 ? [] : await GetObjectAsync(key(range), new ByteRange(start, start + count - 1), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return found;
    }

    /// <summary>The object at <paramref name="key"/> (only <paramref name="range"/> of it when given), or null when there is none.</summary>
    public async Task<byte[]?> GetObjectAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(cancellationToken);
        try
        {
            using var response = await Client.GetObjectAsync(new GetObjectRequest { BucketName = Options.Bucket, Key = key, ByteRange = range }, deadline.Token).ConfigureAwait(false);
            var length = response.ContentLength;
            if (length >= 0 && length <= Array.MaxLength)
            {
                var data = new byte[length];
                await response.ResponseStream.ReadExactlyAsync(data, deadline.Token).ConfigureAwait(false);
                return data;
            }

            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, deadline.Token).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == HttpStatusCode.NotFound && exception.ErrorCode is "NoSuchKey" or null or "")
        {
            return null;
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken, deadline) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>
    /// Deletes the objects <paramref name="keyOf"/> names for <paramref name="ids"/>, up to 1,000 per request.
    /// Whatever is left is found again by the next retention pass as an orphan.
    /// </summary>
    public async Task DeleteObjectsAsync<TId>(IReadOnlyList<TId> ids, Func<TId, string> keyOf, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        for (var start = 0; start < ids.Count; start += MaxKeysPerRequest)
        {
            var count = Math.Min(MaxKeysPerRequest, ids.Count - start);
            var names = new List<string>(count);
            for (var i = start; i < start + count; i++)
            {
                names.Add(keyOf(ids[i]));
            }

            var errors = await S3ObjectDeleter.DeleteAsync(Client, Options, names, (e, deadline) => Unavailable(e, cancellationToken, deadline), Logger, cancellationToken)
                .ConfigureAwait(false);
            if (errors.Count > 0)
            {
                throw S3ObjectDeleter.PartialFailure(Options.Bucket, errors);
            }
        }
    }

    /// <summary>Reads an object name (after the listed prefix) as an id and the time it was made; false when the name is not ours.</summary>
    public delegate bool KeyParser<TId>(ReadOnlySpan<char> name, out TId id, out DateTime made);

    /// <summary>
    /// The ids of the objects under <paramref name="prefix"/> (after <paramref name="startAfter"/>, when given)
    /// made and last modified before <paramref name="youngest"/>, in pages. Ids sort by the time they were made,
    /// as S3 lists keys, so the listing stops at the first younger one: each pass reads only what it may return.
    /// </summary>
    /// <param name="resumable">
    /// The caller resumes the next pass after what this one returned: then the listing also ends at an object made
    /// before <paramref name="youngest"/> but written after it (a PUT that queued or ran long, or one that landed after
    /// its client gave up), which cannot be judged yet and which a cursor past it would never list again.
    /// </param>
    public async IAsyncEnumerable<IReadOnlyList<TId>> ListMadeBeforeAsync<TId>(
        string prefix, string? startAfter, DateTime youngest, KeyParser<TId> parse, bool resumable, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = Options.Bucket, Prefix = prefix, MaxKeys = MaxKeysPerRequest, StartAfter = startAfter };
        while (true)
        {
            var response = await ListPageAsync(request, cancellationToken).ConfigureAwait(false);
            var page = new List<TId>();
            var done = false;
            foreach (var item in response.S3Objects ?? [])
            {
                if (!parse(item.Key.AsSpan(prefix.Length), out var id, out var made))
                {
                    // Not ours (a key of another layout sharing the prefix): never touched.
                    continue;
                }

                if (made >= youngest)
                {
                    done = true;
                    break;
                }

                if (item.LastModified is { } modified && modified.ToUniversalTime() < youngest)
                {
                    page.Add(id);
                }
                else if (resumable)
                {
                    done = true;
                    break;
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

    public async Task<ListObjectsV2Response> ListPageAsync(ListObjectsV2Request request, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(cancellationToken);
        try
        {
            return await Client.ListObjectsV2Async(request, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken, deadline) is { } unavailable)
        {
            throw unavailable;
        }
    }

    public Task CheckReadyAsync(CancellationToken cancellationToken) =>
        S3BucketProbe.CheckReadyAsync(Client, Options, (exception, deadline) => Unavailable(exception, cancellationToken, deadline), cancellationToken);

    public void Dispose() => Client.Dispose();
}
