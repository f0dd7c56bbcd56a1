using Microsoft.Extensions.Logging;
using Profefe.Core.Storage.Objects;
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
    private const string SegmentsFolder = "~segments/";

    private readonly S3Bucket _bucket;

    public S3SegmentObjectStore(S3StorageOptions options, ILogger<S3SegmentObjectStore>? logger = null)
    {
        _bucket = new S3Bucket(options, logger, Log.Unavailable);
    }

    public TimeSpan OrphanGrace => _bucket.Options.OrphanMinAge;

    public string KeyOf(SegmentId id) => _bucket.Options.Prefix + SegmentsFolder + id.ToString();

    public Task PutAsync(SegmentId name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _bucket.PutObjectAsync(KeyOf(name), data, cancellationToken);

    public Task<byte[]?[]> GetRangesAsync(IReadOnlyList<ObjectRange<SegmentId>> ranges, CancellationToken cancellationToken) =>
        _bucket.GetRangesAsync(ranges, range => KeyOf(range.Name), static range => range.Offset, static range => range.Length, cancellationToken);

    public Task DeleteAsync(IReadOnlyList<SegmentId> names, CancellationToken cancellationToken) =>
        _bucket.DeleteObjectsAsync(names, KeyOf, cancellationToken);

    public IAsyncEnumerable<IReadOnlyList<SegmentId>> ListAsync(SegmentId? after, DateTime before, CancellationToken cancellationToken) =>
        _bucket.ListMadeBeforeAsync(_bucket.Options.Prefix + SegmentsFolder, after is { } start ? KeyOf(start) : null, before.ToUniversalTime(), static (ReadOnlySpan<char> name, out SegmentId id, out DateTime made) =>
        {
            var parsed = SegmentId.TryParse(name, out id);
            made = id.Timestamp;
            return parsed;
        }, resumable: true, cancellationToken);

    public void Dispose() => _bucket.Dispose();
}
