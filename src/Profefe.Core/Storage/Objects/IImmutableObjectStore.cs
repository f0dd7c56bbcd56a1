namespace Profefe.Core.Storage.Objects;

/// <summary>
/// Objects in shared object storage that are written once under a name never reused and read back by byte range:
/// the segments of a batching store's write log and the profile engine's block packs. Each is written before the
/// index rows that point into it, so a crash in between leaves an object nothing points at, which the owner's
/// listing finds and deletes, never an index row pointing at nothing. Failures throw
/// <see cref="StorageUnavailableException"/> naming the dependency.
/// </summary>
/// <typeparam name="TName">What names an object.</typeparam>
public interface IImmutableObjectStore<TName>
    where TName : notnull
{
    /// <summary>Stores <paramref name="name"/>; returns only when it is durable.</summary>
    Task PutAsync(TName name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes of each of <paramref name="ranges"/> (null where the object is gone: retention or a compaction
    /// deleted it after the caller read the index), in the order asked, fetched concurrently within the store's own
    /// bound.
    /// </summary>
    Task<byte[]?[]> GetRangesAsync(IReadOnlyList<ObjectRange<TName>> ranges, CancellationToken cancellationToken);

    /// <summary>Deletes <paramref name="names"/>; names without an object are not an error.</summary>
    Task DeleteAsync(IReadOnlyList<TName> names, CancellationToken cancellationToken);
}

/// <summary>Bytes <see cref="Offset"/> to <see cref="Offset"/> + <see cref="Length"/> of the object <see cref="Name"/>.</summary>
public readonly record struct ObjectRange<TName>(TName Name, long Offset, int Length)
    where TName : notnull;
