namespace Profefe.Core.Storage;

/// <summary>Configuration section "Retention": how long profiles are kept and how often old ones are deleted.</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>Profiles created longer ago than this are deleted; <see cref="TimeSpan.Zero"/> keeps them forever.
    /// Five days like profefe's badger.data-ttl.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromDays(5);

    /// <summary>
    /// How long a profile's raw bytes (and its row in the raw index) are kept; null: as long as <see cref="Period"/>,
    /// <see cref="TimeSpan.Zero"/>: forever. With the profile engine on, a shorter raw period keeps the rest of a
    /// profile's life in the engine's blocks only (about a fifth of the bytes): finds, merges and downloads still
    /// answer, downloads rebuilt sample by sample.
    /// </summary>
    public TimeSpan? RawPeriod { get; set; }

    /// <summary><see cref="RawPeriod"/>, or <see cref="Period"/> when it is not set.</summary>
    public TimeSpan EffectiveRawPeriod => RawPeriod ?? Period;

    /// <summary>How often the retention pass runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);
}
