namespace Profefe.Core;

/// <summary>Limits of the collector (configuration section "Collector").</summary>
public sealed class CollectorOptions
{
    public const string SectionName = "Collector";

    /// <summary>Where to listen: "host:port" as profefe's -addr takes it (":10100" is every interface), or a URL.</summary>
    public string Address { get; set; } = "127.0.0.1:10100";

    /// <summary>A POST body larger than this is refused with 413.</summary>
    public long MaxBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>A merge of more profiles than this is refused with 400 (profefe merges without bound).</summary>
    public int MaxMergeProfiles { get; set; } = 1000;

    /// <summary>A gzip body that inflates past this many bytes is refused with 400 (gzip bombs).</summary>
    public long MaxDecompressedBytes { get; set; } = 64L * 1024 * 1024;
}
