namespace Profefe.Storage.Local;

/// <summary>Configuration section "Storage:Local": the embedded SQLite store.</summary>
public sealed class LocalStorageOptions
{
    public const string SectionName = "Storage:Local";

    /// <summary>Directory holding the database; created when missing.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Most profiles committed in one transaction by the group-commit writer.</summary>
    public int MaxBatchProfiles { get; set; } = 256;

    /// <summary>Most profile bytes committed in one transaction, so one burst of big profiles cannot build a huge transaction.</summary>
    public long MaxBatchBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Profiles deleted per retention transaction; small enough that ingest waits at most one such batch.</summary>
    public int RetentionBatchProfiles { get; set; } = 500;

    /// <summary>
    /// Full (default): every group commit syncs the segment it appended to before acknowledging, so acknowledged
    /// profiles survive power loss and kernel crashes. Normal: segments are synced when full and on shutdown only;
    /// acknowledged profiles still survive the collector being killed (the OS has the data) but the last ones may
    /// be lost with a power cut (reading one then fails as damaged). Normal saves one fsync per group commit.
    /// </summary>
    public LocalStorageSynchronous Synchronous { get; set; } = LocalStorageSynchronous.Full;

    /// <summary>Size at which the segment file being appended to is closed and a new one started; retention deletes whole segments.</summary>
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Read connections kept open for reuse (more may be opened under load, then closed).</summary>
    public int ReadConnections { get; set; } = 8;

    /// <summary>Caps the database size in pages; tests use it to make the disk "full".</summary>
    internal long? MaxPageCount { get; set; }

    /// <summary>Caps the bytes in segment files; tests use it to make the disk "full" for profile bytes.</summary>
    internal long? MaxDataBytes { get; set; }

    internal string? Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            return "Storage:Local:DataDirectory must not be empty";
        }

        if (MaxBatchProfiles < 1 || MaxBatchBytes < 1 || RetentionBatchProfiles < 1 || ReadConnections < 1 || SegmentBytes < 1)
        {
            return "Storage:Local: MaxBatchProfiles, MaxBatchBytes, RetentionBatchProfiles, ReadConnections and SegmentBytes must be at least 1";
        }

        if (!Enum.IsDefined(Synchronous))
        {
            return "Storage:Local:Synchronous must be Full or Normal";
        }

        return null;
    }
}

/// <summary>How often the embedded store syncs to disk; see <see cref="LocalStorageOptions.Synchronous"/>.</summary>
public enum LocalStorageSynchronous
{
    Full = 2,
    Normal = 1,
}
