using Microsoft.Extensions.Options;
using Profefe.Core.Settings;

namespace Profefe.Server;

/// <summary>Configuration section "Storage": which backends hold the profiles, and how long /health waits for them.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>
    /// "local" (default), "postgres", "s3+postgres", "s3", or several separated by commas ("local,postgres"):
    /// every write goes to all of them, reads come from the first.
    /// </summary>
    public string Type { get; set; } = "local";

    /// <summary>How long GET /health waits for the backends before it reports not-ready.</summary>
    [SettingRange("Storage:HealthTimeout", typeof(TimeSpan), "00:00:00.0000001", "10675199.02:48:05.4775807", Must = "positive")]
    public TimeSpan HealthTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Checks <see cref="StorageOptions"/> (generated from its annotations).</summary>
[OptionsValidator]
internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;
