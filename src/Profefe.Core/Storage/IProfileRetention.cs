namespace Profefe.Core.Storage;

/// <summary>Deletes old profiles; every backend implements it so retention works everywhere.</summary>
public interface IProfileRetention
{
    /// <summary>Deletes profiles created before <paramref name="cutoff"/> (UTC); returns how many went.</summary>
    Task<int> DeleteProfilesCreatedBeforeAsync(DateTime cutoff, CancellationToken cancellationToken);
}
