namespace Profefe.Core.Storage.Segments;

/// <summary>
/// Where a store that batches writes (PostgreSQL in "S3 + PostgreSQL") puts its segment objects: many profiles'
/// bytes in one object (<see cref="SegmentBuilder"/>), read back by byte range. The index of what is where is the
/// caller's. Failures throw <see cref="StorageUnavailableException"/> naming the dependency.
/// </summary>
public interface ISegmentObjectStore
{
    /// <summary>Stores segment <paramref name="id"/>; returns only when it is durable.</summary>
    Task PutAsync(SegmentId id, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes of each of <paramref name="ranges"/> (null where the segment is gone), in the order asked,
    /// fetched concurrently within the store's own bound.
    /// </summary>
    Task<byte[]?[]> GetRangesAsync(IReadOnlyList<SegmentRange> ranges, CancellationToken cancellationToken);

    /// <summary>Deletes segments <paramref name="ids"/>; ids without an object are not an error.</summary>
    Task DeleteAsync(IReadOnlyList<SegmentId> ids, CancellationToken cancellationToken);

    /// <summary>
    /// Segments after <paramref name="after"/> (all when null) written before <paramref name="before"/> (UTC), in
    /// id order and pages, for deleting those the index does not know (a crash between the put and the index commit).
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<SegmentId>> ListAsync(SegmentId? after, DateTime before, CancellationToken cancellationToken);

    /// <summary>How long a segment without index entry is left alone: its index commit may still be on its way.</summary>
    TimeSpan OrphanGrace { get; }
}
