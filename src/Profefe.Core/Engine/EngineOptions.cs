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

    /// <summary>Profiles per cut.</summary>
    [Range(1, 100_000)]
    public int CutBatch { get; set; } = 2_000;

    /// <summary>
    /// A query waits for the cutter to take in every profile stored before it, up to this long; past it (or with a
    /// longer backlog than <see cref="MaxCatchUpBacklog"/>) it reads raw profiles instead.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromSeconds(5);

    [Range(0, 10_000_000)]
    public int MaxCatchUpBacklog { get; set; } = 20_000;

    /// <summary>
    /// While ingest is busy (see <see cref="BusyIngestRate"/>), the cutter leaves new profiles in the write log up to
    /// this long, so that pushes have the CPU; then it catches up. A query that needs the engine ends the wait.
    /// Zero cuts as soon as profiles arrive.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan MaxCutDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Pushes a second (the write log's growth) from which ingest counts as busy for <see cref="MaxCutDelay"/>.</summary>
    [Range(1, 1_000_000)]
    public int BusyIngestRate { get; set; } = 200;
}

/// <summary>Checks <see cref="EngineOptions"/>' ranges at start-up, naming the setting that is out of range.</summary>
[OptionsValidator]
public sealed partial class EngineOptionsValidator : IValidateOptions<EngineOptions>;
