namespace Profefe.Core.Storage;

/// <summary>Deletes old profiles; every backend implements it so retention works everywhere.</summary>
public interface IProfileRetention
{
    /// <summary>
    /// Deletes profiles stored before <paramref name="cutoff"/> (UTC, compared with <see cref="Profiles.ProfileMeta.StoredAt"/>);
    /// returns how many went.
    /// </summary>
    Task<int> DeleteProfilesStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken);
}
