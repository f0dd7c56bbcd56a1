namespace Profefe.Core.Storage;

/// <summary>Configuration section "Retention": how long profiles are kept and how often old ones are deleted.</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>Profiles created longer ago than this are deleted; <see cref="TimeSpan.Zero"/> keeps them forever.
    /// Five days like profefe's badger.data-ttl.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromDays(5);

    /// <summary>How often the retention pass runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);
}
