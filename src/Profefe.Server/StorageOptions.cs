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
    public TimeSpan HealthTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
