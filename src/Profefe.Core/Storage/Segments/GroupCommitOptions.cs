using Microsoft.Extensions.Options;
using Profefe.Core.Settings;

namespace Profefe.Core.Storage.Segments;

/// <summary>
/// Configuration section "Storage:Segments": how a store on shared storage gathers writes into one segment object
/// (<see cref="GroupCommit{TShard, TWrite}"/>). A batch is written when its window has passed since its first
/// write, or earlier once it holds <see cref="MaxProfiles"/> profiles or <see cref="MaxBytes"/> bytes, or
/// <see cref="MinProfiles"/> profiles while one of its shard's <see cref="MaxFlushes"/> flushes is free.
/// </summary>
public sealed class GroupCommitOptions
{
    public const string SectionName = "Storage:Segments";

    /// <summary>How long a batch gathers after its first write: every write waits at most this long before its flush starts.</summary>
    [SettingRange("Storage:Segments:Window", typeof(TimeSpan), "00:00:00.001", "00:01:00", Must = "between 1 ms and 1 minute")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A batch holding this many profiles is written at once.</summary>
    [SettingRange("Storage:Segments:MaxProfiles", 1, 100_000)]
    public int MaxProfiles { get; set; } = 2_000;

    /// <summary>
    /// A batch holding this many profiles is written before its window ends when a flush of its shard is free:
    /// enough to be worth an object (128: at most 8 PUTs per 1,000 profiles while batches close this way), and at
    /// a fleet's rates a batch fills long before the window, so pushes wait for the flush, not for the clock.
    /// </summary>
    [SettingRange("Storage:Segments:MinProfiles", 1, 100_000)]
    public int MinProfiles { get; set; } = 128;

    /// <summary>
    /// Flushes (PUT and index commit) per shard running at once: a flush waits mostly on the object store and
    /// PostgreSQL, so the next batch's flush overlaps it. With all busy, batches grow instead.
    /// </summary>
    [SettingRange("Storage:Segments:MaxFlushes", 1, 64)]
    public int MaxFlushes { get; set; } = 4;

    /// <summary>
    /// Bytes of pushes waiting for their batch's flush after giving back their upload slot
    /// (Collector:MaxConcurrentUploads); pushes beyond keep their slots, so memory stays bounded.
    /// </summary>
    [SettingRange("Storage:Segments:MaxWaitingBytes", 0, 1L << 40)]
    public long MaxWaitingBytes { get; set; } = 128L << 20;

    /// <summary>A batch holding this many bytes is written at once (the segment object is about this big).</summary>
    [SettingRange("Storage:Segments:MaxBytes", 1, 1L << 30)]
    public long MaxBytes { get; set; } = 32L << 20;

    /// <summary>
    /// Batches per tenant gathered and written side by side (a profile's service picks its shard): more shards
    /// mean more flushes in flight at once, and more, smaller objects.
    /// </summary>
    [SettingRange("Storage:Segments:Shards", 1, 64)]
    public int Shards { get; set; } = 2;

    /// <summary>
    /// Bytes of the segments this collector wrote most recently kept in memory (0 keeps none), so reads of profiles
    /// the engine has not cut yet (merges right after a burst, the cutter itself) cost no GET: 64 MiB holds about
    /// 6,500 profiles of 10 kB.
    /// </summary>
    [SettingRange("Storage:Segments:CacheBytes", 0, 1L << 40)]
    public long CacheBytes { get; set; } = 64L << 20;
}

/// <summary>Checks <see cref="GroupCommitOptions"/> (generated from its annotations).</summary>
[OptionsValidator]
public sealed partial class GroupCommitOptionsValidator : IValidateOptions<GroupCommitOptions>;
