namespace Profefe.Core.Ingest;

/// <summary>Limits of the collector (configuration section "Collector"); each refusal names the key that set it.</summary>
public sealed class CollectorOptions
{
    public const string SectionName = "Collector";

    /// <summary>Where to listen: "host:port" as profefe's -addr takes it (":10100" is every interface), or a URL.</summary>
    public string Address { get; set; } = "127.0.0.1:10100";

    /// <summary>A POST body larger than this is refused with 413.</summary>
    public long MaxBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>A merge of more profiles than this is refused with 400 (profefe merges without bound).</summary>
    public int MaxMergeProfiles { get; set; } = 1000;

    /// <summary>A gzip body that inflates past this many bytes is refused with 413 (gzip bombs).</summary>
    public long MaxDecompressedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// A profile with more samples than this is refused with 400. Pyroscope's default is 16,000, but real Go
    /// heap profiles in our corpus reach 62,117 samples; 13 million fit in a 96 KB gzip and cost gigabytes per view.
    /// </summary>
    public int MaxSamplesPerProfile { get; set; } = 100_000;

    /// <summary>A profile with a sample of more locations than this is refused with 400 (Go records at most 512 frames).</summary>
    public int MaxStackDepth { get; set; } = 1024;

    /// <summary>A push with more labels than this is refused with 400 (Pyroscope's default: 30).</summary>
    public int MaxLabelsPerProfile { get; set; } = 30;

    /// <summary>A label key longer than this (in characters) is refused with 400 (Pyroscope's default: 1024).</summary>
    public int MaxLabelNameLength { get; set; } = 1024;

    /// <summary>A label value longer than this (in characters) is refused with 400 (Pyroscope's default: 2048).</summary>
    public int MaxLabelValueLength { get; set; } = 2048;

    /// <summary>
    /// A push bringing a new value to a label key that already has this many distinct values is refused with 400:
    /// a request id or timestamp as a label grows the index and /api/0/labels without bound.
    /// </summary>
    public int MaxLabelValuesPerKey { get; set; } = 1000;

    /// <summary>Merges (API and UI views) running at once; 16 times as many wait in a queue, more get 429.</summary>
    public int MaxConcurrentMerges { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>A find, merge or view running longer than this is stopped and answered 400, so reads never starve ingest.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Uploads being read and stored at once; more wait in a queue of the same size, then get 429.</summary>
    public int MaxConcurrentUploads { get; set; } = 32;

    /// <summary>
    /// Open connections Kestrel accepts; more are closed at once (refused) instead of running the process out of
    /// file descriptors. 0 picks half the process's open-file limit, at most 10,000.
    /// </summary>
    public int MaxConnections { get; set; }

    /// <summary>
    /// Pushes per second per tenant, sustained; 0 turns the rate limit off. Far above what agents send (a thousand
    /// services pushing every 10 s make 100 per second) and above what one collector stores, so it only stops floods
    /// from one tenant on a large machine; lower it per tenant under <see cref="Tenants"/>.
    /// </summary>
    public double IngestRate { get; set; } = 10_000;

    /// <summary>Pushes a tenant may make at once above <see cref="IngestRate"/> (the token bucket's size).</summary>
    public int IngestBurst { get; set; } = 20_000;

    /// <summary>Per-tenant overrides of <see cref="IngestRate"/> and <see cref="IngestBurst"/>, by tenant id.</summary>
    public Dictionary<string, TenantIngestLimits> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long a push's Idempotency-Key is remembered: a retry within it stores nothing new.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Idempotency keys remembered at most (the oldest are forgotten first); about 200 bytes each.</summary>
    public int MaxIdempotencyKeys { get; set; } = 100_000;

    /// <summary>Why the options are unusable, or null when they are fine.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Address))
        {
            return "Collector:Address must not be empty";
        }

        if (MaxBodyBytes <= 0 || MaxMergeProfiles <= 0 || MaxDecompressedBytes <= 0 || MaxSamplesPerProfile <= 0 || MaxStackDepth <= 0
            || MaxLabelsPerProfile <= 0 || MaxLabelNameLength <= 0 || MaxLabelValueLength <= 0 || MaxLabelValuesPerKey <= 0
            || MaxConcurrentMerges <= 0 || MaxConcurrentUploads <= 0 || MaxIdempotencyKeys <= 0)
        {
            return "Collector: every Max… limit must be positive";
        }

        if (MaxConnections < 0 || QueryTimeout <= TimeSpan.Zero || IdempotencyWindow <= TimeSpan.Zero)
        {
            return "Collector:MaxConnections must not be negative; Collector:QueryTimeout and IdempotencyWindow must be positive";
        }

        if (IngestRate < 0 || IngestBurst < 1)
        {
            return "Collector:IngestRate must not be negative and Collector:IngestBurst must be at least 1";
        }

        foreach (var (tenant, limits) in Tenants)
        {
            if (limits.IngestRate is < 0 || limits.IngestBurst is < 1)
            {
                return $"Collector:Tenants:{tenant}: IngestRate must not be negative and IngestBurst must be at least 1";
            }
        }

        return null;
    }
}

/// <summary>One tenant's ingest rate; a property left unset keeps the global value.</summary>
public sealed class TenantIngestLimits
{
    public double? IngestRate { get; set; }

    public int? IngestBurst { get; set; }
}
