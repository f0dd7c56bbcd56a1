using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Profefe.Core.Engine;

/// <summary>The profile engine's settings (section "Engine").</summary>
public sealed class EngineOptions
{
    public const string SectionName = "Engine";

    /// <summary>Whether the engine cuts blocks and answers merges and time series.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the cutter looks at the write log when it has nothing to do.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan CutInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// While the write log keeps growing (every cut finds profiles), compaction still runs at least this often, so an
    /// hour's blocks do not pile up one per cut; an idle engine compacts whenever a cut finds nothing.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan CompactInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Profiles per cut.</summary>
    [Range(1, 100_000)]
    public int CutBatch { get; set; } = 2_000;

    /// <summary>
    /// A query waits for the cutter to take in every profile stored before it, up to this long; past it, with a
    /// longer backlog than <see cref="MaxCatchUpBacklog"/>, or with one the recent cuts' rate would not clear within
    /// it, the query reads raw profiles instead.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromSeconds(5);

    [Range(0, 10_000_000)]
    public int MaxCatchUpBacklog { get; set; } = 20_000;

    /// <summary>
    /// While ingest is busy (see <see cref="BusyIngestRate"/>), the embedded store's cutter leaves new profiles in the write log up to
    /// this long, so that pushes have the CPU; then it catches up. A query that needs the engine ends the wait.
    /// Zero cuts as soon as profiles arrive.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan MaxCutDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Pushes a second (the write log's growth) from which ingest counts as busy for <see cref="MaxCutDelay"/>.</summary>
    [Range(1, 1_000_000)]
    public int BusyIngestRate { get; set; } = 200;

    /// <summary>
    /// On shared storage, how long one collector's hold on the engine lasts without renewal (it renews every
    /// <see cref="CutInterval"/>): after a holder dies, another takes over cutting within this long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// On shared storage, how old a block object no index row points at must be before it is deleted as an orphan
    /// (left by a crash between its PUT and its commit): longer than any commit takes, so one in flight keeps its objects.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan OrphanMinAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// On shared storage, bytes of block data each collector keeps in memory once fetched from object storage (blocks
    /// never change once written), so merges over the same partial hours do not GET them again; 0 keeps none.
    /// </summary>
    [Range(0L, 1L << 40)]
    public long BlockCacheBytes { get; set; } = 32L << 20;
}

/// <summary>Checks <see cref="EngineOptions"/>' ranges at start-up, naming the setting that is out of range.</summary>
[OptionsValidator]
public sealed partial class EngineOptionsValidator : IValidateOptions<EngineOptions>;
