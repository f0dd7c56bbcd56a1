namespace Profefe.Core.Storage;

/// <summary>What the store holds, for metrics and the health endpoint. Cheap: no scan of profiles.</summary>
public interface IProfileStorageStatistics
{
    Task<ProfileStorageStatistics> GetStatisticsAsync(CancellationToken cancellationToken);
}

/// <param name="ProfileCount">Profiles currently stored.</param>
/// <param name="BytesOnDisk">Bytes the store occupies on disk (database files), or -1 when the backend cannot tell.</param>
public sealed record ProfileStorageStatistics(long ProfileCount, long BytesOnDisk);
