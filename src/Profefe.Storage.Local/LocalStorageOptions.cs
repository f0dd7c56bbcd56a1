using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Profefe.Core.Settings;

namespace Profefe.Storage.Local;

/// <summary>Configuration section "Storage:Local": the embedded SQLite store.</summary>
public sealed class LocalStorageOptions
{
    public const string SectionName = "Storage:Local";

    /// <summary>Directory holding the database; created when missing.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Storage:Local:DataDirectory must not be empty")]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Most profiles committed in one transaction by the group-commit writer.</summary>
    [SettingRange("Storage:Local:MaxBatchProfiles", 1, int.MaxValue)]
    public int MaxBatchProfiles { get; set; } = 256;

    /// <summary>Most profile bytes committed in one transaction, so one burst of big profiles cannot build a huge transaction.</summary>
    [SettingRange("Storage:Local:MaxBatchBytes", 1, long.MaxValue)]
    public long MaxBatchBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Profiles deleted per retention transaction; small enough that ingest waits at most one such batch.</summary>
    [SettingRange("Storage:Local:RetentionBatchProfiles", 1, int.MaxValue)]
    public int RetentionBatchProfiles { get; set; } = 500;

    /// <summary>
    /// Full (default): every group commit syncs the segment it appended to before acknowledging, so acknowledged
    /// profiles survive power loss and kernel crashes. Normal: segments are synced when full and on shutdown only;
    /// acknowledged profiles still survive the collector being killed (the OS has the data) but the last ones may
    /// be lost with a power cut (reading one then fails as damaged). Normal saves one fsync per group commit.
    /// </summary>
    [EnumDataType(typeof(LocalStorageSynchronous), ErrorMessage = "Storage:Local:Synchronous must be Full or Normal")]
    public LocalStorageSynchronous Synchronous { get; set; } = LocalStorageSynchronous.Full;

    /// <summary>Size at which the segment file being appended to is closed and a new one started; retention deletes whole segments.</summary>
    [SettingRange("Storage:Local:SegmentBytes", 1, long.MaxValue)]
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Read connections kept open for reuse (more may be opened under load, then closed).</summary>
    [SettingRange("Storage:Local:ReadConnections", 1, int.MaxValue)]
    public int ReadConnections { get; set; } = 8;

    /// <summary>Caps the database size in pages; tests use it to make the disk "full".</summary>
    internal long? MaxPageCount { get; set; }

    /// <summary>Caps the bytes in segment files; tests use it to make the disk "full" for profile bytes.</summary>
    internal long? MaxDataBytes { get; set; }
}

/// <summary>Checks <see cref="LocalStorageOptions"/> (generated from its annotations); the store checks with it too.</summary>
[OptionsValidator]
public sealed partial class LocalStorageOptionsValidator : IValidateOptions<LocalStorageOptions>;

/// <summary>How often the embedded store syncs to disk; see <see cref="LocalStorageOptions.Synchronous"/>.</summary>
public enum LocalStorageSynchronous
{
    Full = 2,
    Normal = 1,
}
