namespace Profefe.Core.Engine;

/// <summary>
/// Object storage for a shared engine store's blocks: each block one immutable object, written before the index
/// row that points at it, so a crash in between leaves an object nothing points at (found by
/// <see cref="ListWrittenBeforeAsync"/> and deleted), never an index row pointing at nothing.
/// </summary>
public interface IEngineBlockObjects
{
    Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>The object's bytes, or null when it is gone (a compaction replaced it after the caller read the index).</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>Keys of the blocks written before <paramref name="before"/>, a page at a time.</summary>
    IAsyncEnumerable<IReadOnlyList<string>> ListWrittenBeforeAsync(DateTime before, CancellationToken cancellationToken);
}
