using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;
using Profefe.Core.Settings;

namespace Profefe.Core.Ingest;

/// <summary>Limits of the collector (configuration section "Collector"); each refusal names the key that set it.</summary>
public sealed class CollectorOptions : IValidatableObject
{
    public const string SectionName = "Collector";

    /// <summary>A POST body larger than this is refused with 413.</summary>
    [SettingRange("Collector:MaxBodyBytes", 1, long.MaxValue)]
    public long MaxBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>A merge of more profiles than this is refused with 400 (profefe merges without bound).</summary>
    [SettingRange("Collector:MaxMergeProfiles", 1, int.MaxValue)]
    public int MaxMergeProfiles { get; set; } = 1000;

    /// <summary>A gzip body that inflates past this many bytes is refused with 413 (gzip bombs).</summary>
    [SettingRange("Collector:MaxDecompressedBytes", 1, long.MaxValue)]
    public long MaxDecompressedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Inflated bytes all uploads may hold at once (gzip bodies being decompressed); a push that would pass it gets
    /// 429 with Retry-After. 0 picks a quarter of the memory the runtime may use (in a 4 GiB container: 768 MiB),
    /// but never less than twice <see cref="MaxDecompressedBytes"/>, so one upload at the limit always fits.
    /// </summary>
    [SettingRange("Collector:MaxInflatedBytesInFlight", 0, long.MaxValue)]
    public long MaxInflatedBytesInFlight { get; set; }

    /// <summary>The bytes <see cref="MaxInflatedBytesInFlight"/> allows, its default resolved.</summary>
    public long ResolveInflateBudget() =>
        MaxInflatedBytesInFlight > 0
            ? MaxInflatedBytesInFlight
            : Math.Max(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4, Math.Min(long.MaxValue / 2, MaxDecompressedBytes) * 2);

    /// <summary>
    /// A profile with more samples than this is refused with 400. Pyroscope's default is 16,000, but real Go
    /// heap profiles in our corpus reach 62,117 samples; 13 million fit in a 96 KB gzip and cost gigabytes per view.
    /// </summary>
    [SettingRange("Collector:MaxSamplesPerProfile", 1, int.MaxValue)]
    public int MaxSamplesPerProfile { get; set; } = 100_000;

    /// <summary>A profile with a sample of more locations than this is refused with 400 (Go records at most 512 frames).</summary>
    [SettingRange("Collector:MaxStackDepth", 1, int.MaxValue)]
    public int MaxStackDepth { get; set; } = 1024;

    /// <summary>A push with more labels than this is refused with 400 (Pyroscope's default: 30).</summary>
    [SettingRange("Collector:MaxLabelsPerProfile", 1, int.MaxValue)]
    public int MaxLabelsPerProfile { get; set; } = 30;

    /// <summary>A label key longer than this (in characters) is refused with 400 (Pyroscope's default: 1024).</summary>
    [SettingRange("Collector:MaxLabelNameLength", 1, int.MaxValue)]
    public int MaxLabelNameLength { get; set; } = 1024;

    /// <summary>A label value longer than this (in characters) is refused with 400 (Pyroscope's default: 2048).</summary>
    [SettingRange("Collector:MaxLabelValueLength", 1, int.MaxValue)]
    public int MaxLabelValueLength { get; set; } = 2048;

    /// <summary>
    /// A push bringing a new value to a label key that already has this many distinct values is refused with 400:
    /// a request id or timestamp as a label grows the index and /api/0/labels without bound.
    /// </summary>
    [SettingRange("Collector:MaxLabelValuesPerKey", 1, int.MaxValue)]
    public int MaxLabelValuesPerKey { get; set; } = 1000;

    /// <summary>Merges (API and UI views) running at once; 16 times as many wait in a queue, more get 429.</summary>
    [SettingRange("Collector:MaxConcurrentMerges", 1, int.MaxValue)]
    public int MaxConcurrentMerges { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>A find, merge or view running longer than this is stopped and answered 400, so reads never starve ingest.</summary>
    [SettingRange("Collector:QueryTimeout", typeof(TimeSpan), "00:00:00.0000001", "10675199.02:48:05.4775807", Must = "positive")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Uploads being read and stored at once; more wait in a queue of the same size, then get 429.</summary>
    [SettingRange("Collector:MaxConcurrentUploads", 1, int.MaxValue)]
    public int MaxConcurrentUploads { get; set; } = 32;

    /// <summary>
    /// Open connections Kestrel accepts; more are closed at once (refused) instead of running the process out of
    /// file descriptors. 0 picks half the process's open-file limit, at most 10,000.
    /// </summary>
    [SettingRange("Collector:MaxConnections", 0, int.MaxValue)]
    public int MaxConnections { get; set; }

    /// <summary>
    /// Pushes per second per tenant, sustained; 0 turns the rate limit off. Far above what agents send (a thousand
    /// services pushing every 10 s make 100 per second) and above what one collector stores, so it only stops floods
    /// from one tenant on a large machine; lower it per tenant under <see cref="Tenants"/>.
    /// </summary>
    [SettingRange("Collector:IngestRate", 0, double.MaxValue)]
    public double IngestRate { get; set; } = 10_000;

    /// <summary>Pushes a tenant may make at once above <see cref="IngestRate"/> (the token bucket's size).</summary>
    [SettingRange("Collector:IngestBurst", 1, int.MaxValue)]
    public int IngestBurst { get; set; } = 20_000;

    /// <summary>Per-tenant overrides of <see cref="IngestRate"/> and <see cref="IngestBurst"/>, by tenant id.</summary>
    public Dictionary<string, TenantIngestLimits> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long a push's Idempotency-Key is remembered: a retry within it stores nothing new.</summary>
    [SettingRange("Collector:IdempotencyWindow", typeof(TimeSpan), "00:00:00.0000001", "10675199.02:48:05.4775807", Must = "positive")]
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Idempotency keys remembered at most (the oldest are forgotten first); about 200 bytes each.</summary>
    [SettingRange("Collector:MaxIdempotencyKeys", 1, int.MaxValue)]
    public int MaxIdempotencyKeys { get; set; } = 100_000;

    /// <summary>Per-tenant overrides checked beside the annotated limits; each message names the tenant's key.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (tenant, limits) in Tenants)
        {
            if (limits.IngestRate is < 0)
            {
                yield return new ValidationResult(
                    $"Collector:Tenants:{tenant}:IngestRate is {limits.IngestRate.Value.ToString(CultureInfo.InvariantCulture)}; it must not be negative", [nameof(Tenants)]);
            }

            if (limits.IngestBurst is < 1)
            {
                yield return new ValidationResult(
                    $"Collector:Tenants:{tenant}:IngestBurst is {limits.IngestBurst.Value.ToString(CultureInfo.InvariantCulture)}; it must be at least 1", [nameof(Tenants)]);
            }
        }
    }
}

/// <summary>Checks <see cref="CollectorOptions"/>: generated from its annotations, with its tenant overrides.</summary>
[OptionsValidator]
public sealed partial class CollectorOptionsValidator : IValidateOptions<CollectorOptions>;

/// <summary>One tenant's ingest rate; a property left unset keeps the global value.</summary>
public sealed class TenantIngestLimits
{
    public double? IngestRate { get; set; }

    public int? IngestBurst { get; set; }
}
