namespace Profefe.Core.Engine;

/// <summary>
/// Object storage for a shared engine store's blocks: each cut or compaction writes its blocks as one immutable
/// object (a pack, the blocks back to back), before the index rows that point into it, so a crash in between
/// leaves an object nothing points at (found by <see cref="ListWrittenBeforeAsync"/> and deleted), never an index
/// row pointing at nothing. Reads fetch only the byte ranges of the blocks a query needs.
/// </summary>
public interface IEngineBlockObjects
{
    Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes of each of <paramref name="ranges"/> (null where the object is gone: a compaction or retention
    /// replaced its blocks after the caller read the index), in the order asked, fetched concurrently within the
    /// store's own bound.
    /// </summary>
    Task<byte[]?[]> GetRangesAsync(IReadOnlyList<EngineObjectRange> ranges, CancellationToken cancellationToken);

    Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>Keys of the objects written before <paramref name="before"/>, a page at a time.</summary>
    IAsyncEnumerable<IReadOnlyList<string>> ListWrittenBeforeAsync(DateTime before, CancellationToken cancellationToken);
}

/// <summary>One block's bytes inside the object <paramref name="Key"/>.</summary>
public readonly record struct EngineObjectRange(string Key, long Offset, int Length);
