namespace Profefe.Core.Engine;

/// <summary>
/// An engine store several collectors share. One at a time holds its lease and may change the engine's data
/// (cut, compact, apply retention); the store checks the lease's fencing token inside every transaction that
/// changes anything, so a collector that lost its lease (paused past its expiry, cut off) can never commit. The
/// others only read, bringing their catalog up to date with <see cref="RefreshAsync"/>.
/// </summary>
public interface ISharedEngineStore : IProfileEngineStore
{
    /// <summary>
    /// Takes the lease when nobody holds it or its holder let it expire, or renews it for <paramref name="duration"/>;
    /// true while this store holds it.
    /// </summary>
    Task<bool> TryHoldLeaseAsync(TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>
    /// Loads into <paramref name="catalog"/> the series and symbol deltas committed since this store's last load,
    /// refresh or commit, and the cursor as of them. The store keeps the catalog: while this collector does not hold
    /// the lease, reading a rollup or block that a later commit wrote refreshes it again first, so a query never
    /// meets a symbol its catalog lacks.
    /// </summary>
    Task RefreshAsync(EngineCatalog catalog, CancellationToken cancellationToken);

    /// <summary>The write log's position up to which the engine's committed data holds every profile.</summary>
    Task<long> ReadCursorAsync(CancellationToken cancellationToken);

    /// <summary>Deletes block objects no index row points at (a crash between their PUT and the commit); returns how many.</summary>
    Task<int> DeleteOrphansAsync(CancellationToken cancellationToken);
}

/// <summary>The store refused a change because another collector holds (or took over) the engine's lease.</summary>
public sealed class EngineLeaseLostException(string message) : Exception(message);
