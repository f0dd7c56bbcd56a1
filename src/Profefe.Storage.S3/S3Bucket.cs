using System.Net;
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
        // default) and a segment at most Storage:Segments:MaxBytes, far under S3's 5 GiB single-PUT limit, and a
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
