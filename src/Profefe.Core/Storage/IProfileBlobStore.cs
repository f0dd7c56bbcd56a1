namespace Profefe.Core.Storage;

/// <summary>
/// Where a store that keeps only the index itself (PostgreSQL in "S3 + PostgreSQL") puts the profile bytes:
/// object storage. Keyed by tenant and profile id (<see cref="ProfileKey"/>); the key layout is the implementation's business.
/// Failures throw <see cref="StorageUnavailableException"/> naming the dependency.
/// </summary>
public interface IProfileBlobStore
{
    /// <summary>Stores <paramref name="data"/> under <paramref name="key"/>; returns only when the bytes are durable.</summary>
    Task PutAsync(ProfileKey key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>The bytes stored under <paramref name="key"/>, or null when there are none.</summary>
    Task<byte[]?> GetAsync(ProfileKey key, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes of each of <paramref name="keys"/> (null where there are none), in the order asked, fetched
    /// concurrently within the store's own bound.
    /// </summary>
    Task<byte[]?[]> GetManyAsync(IReadOnlyList<ProfileKey> keys, CancellationToken cancellationToken);

    /// <summary>Deletes the bytes of <paramref name="keys"/>; keys without bytes are not an error.</summary>
    Task DeleteAsync(IReadOnlyList<ProfileKey> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Keys of bytes written before <paramref name="cutoff"/> (UTC), in pages, for deleting those no index entry
    /// points at (a crash between the put and the index write leaves such orphans). Leaves out bytes written so
    /// recently that their index entry may still be on its way.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<ProfileKey>> ListWrittenBeforeAsync(DateTime cutoff, CancellationToken cancellationToken);
}
