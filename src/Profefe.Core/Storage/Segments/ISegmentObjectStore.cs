using Profefe.Core.Storage.Objects;

namespace Profefe.Core.Storage.Segments;

/// <summary>
/// Where a store that batches writes (PostgreSQL in "S3 + PostgreSQL") puts its segment objects: many profiles'
/// bytes in one object (<see cref="SegmentBuilder"/>), read back by byte range. The index of what is where is the
/// caller's.
/// </summary>
public interface ISegmentObjectStore : IImmutableObjectStore<SegmentId>
{
    /// <summary>
    /// Segments after <paramref name="after"/> (all when null) written before <paramref name="before"/> (UTC), in
    /// id order and pages, for deleting those the index does not know (a crash between the put and the index commit).
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<SegmentId>> ListAsync(SegmentId? after, DateTime before, CancellationToken cancellationToken);

    /// <summary>How long a segment without index entry is left alone: its index commit may still be on its way.</summary>
    TimeSpan OrphanGrace { get; }
}
