using Profefe.Core.Profiles;

namespace Profefe.Core.Storage;

/// <summary>
/// Where a store that keeps only the index itself (PostgreSQL in "S3 + PostgreSQL") puts the profile bytes:
/// object storage. Keyed by profile id; the key layout is the implementation's business.
/// Failures throw <see cref="StorageUnavailableException"/> naming the dependency.
/// </summary>
public interface IProfileBlobStore
{
    /// <summary>Stores <paramref name="data"/> for <paramref name="id"/>; returns only when the bytes are durable.</summary>
    Task PutAsync(ProfileId id, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>The bytes stored for <paramref name="id"/>, or null when there are none.</summary>
    Task<byte[]?> GetAsync(ProfileId id, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes of each of <paramref name="ids"/> (null where there are none), in the order asked, fetched
    /// concurrently within the store's own bound.
    /// </summary>
    Task<byte[]?[]> GetManyAsync(IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken);

    /// <summary>Deletes the bytes of <paramref name="ids"/>; ids without bytes are not an error.</summary>
    Task DeleteAsync(IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken);

    /// <summary>
    /// Ids of bytes written before <paramref name="cutoff"/> (UTC), in pages, for deleting those no index entry
    /// points at (a crash between the put and the index write leaves such orphans). Leaves out bytes written so
    /// recently that their index entry may still be on its way.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<ProfileId>> ListWrittenBeforeAsync(DateTime cutoff, CancellationToken cancellationToken);
}
