using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Profefe.Core.Settings;

namespace Profefe.Storage.S3;

/// <summary>Configuration section "Storage:S3": the object storage holding profile bytes.</summary>
public sealed class S3StorageOptions : IValidatableObject
{
    public const string SectionName = "Storage:S3";

    /// <summary>
    /// Endpoint of an S3-compatible server, e.g. "http://rgw.internal:7480"; empty uses AWS's own endpoint for
    /// <see cref="Region"/>.
    /// </summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>Region to sign requests for (S3-compatible servers accept any, the signature needs one).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Storage:S3:Region must be set")]
    public string Region { get; set; } = "us-east-1";

    /// <summary>The bucket; it must exist (collectors do not create buckets, which needs more rights than writing).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Storage:S3:Bucket must be set")]
    public string Bucket { get; set; } = "";

    /// <summary>
    /// Put in front of every key as is, e.g. "profefe/". The keys under it belong to profefe: retention deletes
    /// objects named like a profile id that no index entry points at.
    /// </summary>
    public string Prefix { get; set; } = "";

    /// <summary>Access key; with <see cref="SecretKey"/> empty too, the SDK's credential chain is used (environment,
    /// profile, web identity, instance role, …).</summary>
    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Optional session token of temporary explicit credentials.</summary>
    public string SessionToken { get; set; } = "";

    /// <summary>
    /// Path-style URLs (http://host/bucket/key) instead of virtual-hosted ones (http://bucket.host/key). Most
    /// S3-compatible servers (Ceph RGW, MinIO) need it unless their DNS has a wildcard for bucket names.
    /// </summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>
    /// When the SDK computes request checksums and validates response checksums. The default is
    /// <see cref="S3ChecksumMode.WhenRequired"/>: AWSSDK.S3 4.x otherwise sends trailing CRC32 checksums with every
    /// upload, which older S3-compatible servers (Ceph 16 RGW, older MinIO) reject with XAmzContentSHA256Mismatch,
    /// so the safe default is the one that works everywhere. Integrity is not lost: over plain HTTP the SDK then
    /// signs the whole payload (its SHA-256 is in the signature), over HTTPS TLS protects it. Choose
    /// <see cref="S3ChecksumMode.WhenSupported"/> on AWS itself to get end-to-end CRC32 checks too.
    /// </summary>
    public S3ChecksumMode ChecksumMode { get; set; } = S3ChecksumMode.WhenRequired;

    /// <summary>Bound on one HTTP attempt, so a stuck server turns into a 503 instead of a hanging request.</summary>
    [SettingRange("Storage:S3:Timeout", typeof(TimeSpan), "00:00:01", "10675199.02:48:05.4775807", Must = "at least one second")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on opening a connection.</summary>
    [SettingRange("Storage:S3:ConnectTimeout", typeof(TimeSpan), "00:00:01", "10675199.02:48:05.4775807", Must = "at least one second")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries of a failed request (throttling, 5xx, broken connection) with backoff, after the first attempt.</summary>
    [SettingRange("Storage:S3:MaxErrorRetry", 0, 10)]
    public int MaxErrorRetry { get; set; } = 2;

    /// <summary>
    /// Bound on one request with all its retries, after which it fails as "s3 ... timed out" (a 503). Zero, the
    /// default, derives it: <see cref="Timeout"/> × (1 + <see cref="MaxErrorRetry"/>) plus 2 s for the backoff
    /// between attempts. Needed because the SDK's own bound is per attempt and, against a server that accepts
    /// connections but never answers, a request with its retries ran for several times that.
    /// </summary>
    [SettingRange("Storage:S3:OperationTimeout", typeof(TimeSpan), "00:00:00", "10675199.02:48:05.4775807", Must = "zero or more")]
    public TimeSpan OperationTimeout { get; set; }

    /// <summary>
    /// Bound on the readiness check (HeadBucket) behind /health, so that a hung object storage is reported as
    /// "s3" before the health check's own Storage:HealthTimeout runs out and can only name the storage type.
    /// Zero, the default, derives it: 80% of Storage:HealthTimeout when the host configures one, else 4 s (under
    /// the default 5 s); never more than <see cref="Timeout"/>.
    /// </summary>
    [SettingRange("Storage:S3:ReadinessTimeout", typeof(TimeSpan), "00:00:00", "10675199.02:48:05.4775807", Must = "zero or more")]
    public TimeSpan ReadinessTimeout { get; set; }

    /// <summary>Requests one operation (a merge's reads) runs at once.</summary>
    [SettingRange("Storage:S3:MaxConcurrentRequests", 1, int.MaxValue)]
    public int MaxConcurrentRequests { get; set; } = 8;

    /// <summary>
    /// Retention leaves an object without index entry alone until it is this old: its index entry may still be
    /// on its way, and the server's clock (which stamps objects) may differ from the collector's.
    /// </summary>
    [SettingRange("Storage:S3:OrphanMinAge", typeof(TimeSpan), "00:00:00", "10675199.02:48:05.4775807", Must = "zero or more")]
    public TimeSpan OrphanMinAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The host's health check bound, which <see cref="ReadinessTimeout"/> derives from.</summary>
    internal const string HealthTimeoutKey = "Storage:HealthTimeout";

    /// <summary>The bound <see cref="OperationTimeout"/> describes.</summary>
    internal TimeSpan EffectiveOperationTimeout =>
        OperationTimeout > TimeSpan.Zero ? OperationTimeout : (Timeout * (MaxErrorRetry + 1)) + TimeSpan.FromSeconds(2);

    /// <summary>The bound <see cref="ReadinessTimeout"/> describes.</summary>
    internal TimeSpan EffectiveReadinessTimeout
    {
        get
        {
            var limit = ReadinessTimeout > TimeSpan.Zero ? ReadinessTimeout : TimeSpan.FromSeconds(4);
            return limit < Timeout ? limit : Timeout;
        }
    }

    /// <summary>Derives <see cref="ReadinessTimeout"/> from the host's <paramref name="healthTimeout"/> unless it is set.</summary>
    internal void DeriveReadinessTimeout(string? healthTimeout)
    {
        if (ReadinessTimeout == TimeSpan.Zero
            && TimeSpan.TryParse(healthTimeout, System.Globalization.CultureInfo.InvariantCulture, out var health)
            && health > TimeSpan.Zero)
        {
            ReadinessTimeout = health * 0.8;
        }
    }

    /// <summary>The rules that span settings or need parsing, beside the annotated ranges.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ServiceUrl.Length > 0 && !Uri.TryCreate(ServiceUrl, UriKind.Absolute, out _))
        {
            yield return new ValidationResult($"Storage:S3:ServiceUrl is \"{ServiceUrl}\"; it must be an absolute URL", [nameof(ServiceUrl)]);
        }

        if (string.IsNullOrEmpty(AccessKey) != string.IsNullOrEmpty(SecretKey))
        {
            yield return new ValidationResult(
                $"Storage:S3:{(AccessKey.Length == 0 ? "AccessKey" : "SecretKey")} is empty but Storage:S3:{(AccessKey.Length == 0 ? "SecretKey" : "AccessKey")} is set: "
                + "set both AccessKey and SecretKey, or neither to use the SDK's credential chain", [nameof(AccessKey), nameof(SecretKey)]);
        }
    }
}

/// <summary>Checks <see cref="S3StorageOptions"/> (generated from its annotations); the stores check with it too.</summary>
[OptionsValidator]
public sealed partial class S3StorageOptionsValidator : IValidateOptions<S3StorageOptions>;

/// <summary>When the AWS SDK computes request checksums and validates response checksums.</summary>
public enum S3ChecksumMode
{
    /// <summary>Only for operations that require one (DeleteObjects): works with every S3-compatible server.</summary>
    WhenRequired,

    /// <summary>For every operation that supports one (the SDK's default; AWS S3 and recent servers only).</summary>
    WhenSupported,
}
