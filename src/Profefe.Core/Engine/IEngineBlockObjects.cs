using Profefe.Core.Storage.Objects;

namespace Profefe.Core.Engine;

/// <summary>
/// Object storage for a shared engine store's blocks: each cut or compaction writes its blocks as one immutable
/// object (a pack, the blocks back to back) named by a key, before the index rows that point into it; reads fetch
/// only the byte ranges of the blocks a query needs.
/// </summary>
public interface IEngineBlockObjects : IImmutableObjectStore<string>
{
    /// <summary>
    /// Keys of the objects written before <paramref name="before"/>, a page at a time: those no index row points at
    /// are what a crash between a pack's put and its commit left behind.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<string>> ListWrittenBeforeAsync(DateTime before, CancellationToken cancellationToken);
}
