namespace Profefe.Storage.S3;

/// <summary>Configuration section "Storage:S3": the object storage holding profile bytes.</summary>
public sealed class S3StorageOptions
{
    public const string SectionName = "Storage:S3";

    /// <summary>Smallest part S3 accepts in a multipart upload (all but the last part).</summary>
    public const long MinPartSizeBytes = 5L * 1024 * 1024;

    /// <summary>Largest part this store uploads: parts are slices of one in-memory body.</summary>
    public const long MaxPartSizeBytes = 1024L * 1024 * 1024;

    /// <summary>
    /// Endpoint of an S3-compatible server, e.g. "http://rgw.internal:7480"; empty uses AWS's own endpoint for
    /// <see cref="Region"/>.
    /// </summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>Region to sign requests for (S3-compatible servers accept any, the signature needs one).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>The bucket; it must exist (collectors do not create buckets, which needs more rights than writing).</summary>
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
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on opening a connection.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries of a failed request (throttling, 5xx, broken connection) with backoff, after the first attempt.</summary>
    public int MaxErrorRetry { get; set; } = 2;

    /// <summary>
    /// Bound on one request with all its retries, after which it fails as "s3 ... timed out" (a 503). Zero, the
    /// default, derives it: <see cref="Timeout"/> × (1 + <see cref="MaxErrorRetry"/>) plus 2 s for the backoff
    /// between attempts. Needed because the SDK's own bound is per attempt and, against a server that accepts
    /// connections but never answers, a request with its retries ran for several times that.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; }

    /// <summary>
    /// Bound on the readiness check (HeadBucket) behind /health, so that a hung object storage is reported as
    /// "s3" before the health check's own Storage:HealthTimeout runs out and can only name the storage type.
    /// Zero, the default, derives it: 80% of Storage:HealthTimeout when the host configures one, else 4 s (under
    /// the default 5 s); never more than <see cref="Timeout"/>.
    /// </summary>
    public TimeSpan ReadinessTimeout { get; set; }

    /// <summary>Bodies of at least this size are uploaded in parts, so one failure resends a part, not everything.</summary>
    public long MultipartThresholdBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Size of each part of a multipart upload (at least 5 MiB, S3's minimum; at most 1 GiB).</summary>
    public long PartSizeBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>Requests one operation (a merge's reads, a multipart upload's parts) runs at once.</summary>
    public int MaxConcurrentRequests { get; set; } = 8;

    /// <summary>
    /// Retention leaves an object without index entry alone until it is this old: its index entry may still be
    /// on its way, and the server's clock (which stamps objects) may differ from the collector's.
    /// </summary>
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

    internal string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            return "Storage:S3:Bucket must be set";
        }

        if (ServiceUrl.Length > 0 && !Uri.TryCreate(ServiceUrl, UriKind.Absolute, out _))
        {
            return $"Storage:S3:ServiceUrl \"{ServiceUrl}\" is not an absolute URL";
        }

        if (string.IsNullOrWhiteSpace(Region))
        {
            return "Storage:S3:Region must be set";
        }

        if (string.IsNullOrEmpty(AccessKey) != string.IsNullOrEmpty(SecretKey))
        {
            return "Storage:S3: set both AccessKey and SecretKey, or neither to use the SDK's credential chain";
        }

        if (Timeout < TimeSpan.FromSeconds(1) || ConnectTimeout < TimeSpan.FromSeconds(1))
        {
            return "Storage:S3: Timeout and ConnectTimeout must be at least one second";
        }

        if (OperationTimeout < TimeSpan.Zero || ReadinessTimeout < TimeSpan.Zero)
        {
            return "Storage:S3: OperationTimeout and ReadinessTimeout must not be negative (zero derives them)";
        }

        if (MaxErrorRetry is < 0 or > 10)
        {
            return "Storage:S3:MaxErrorRetry must be between 0 and 10";
        }

        if (PartSizeBytes < MinPartSizeBytes || PartSizeBytes > MaxPartSizeBytes || MultipartThresholdBytes < PartSizeBytes)
        {
            return "Storage:S3: PartSizeBytes must be between 5 MiB and 1 GiB and MultipartThresholdBytes at least PartSizeBytes";
        }

        if (MaxConcurrentRequests < 1)
        {
            return "Storage:S3:MaxConcurrentRequests must be at least 1";
        }

        if (OrphanMinAge < TimeSpan.Zero)
        {
            return "Storage:S3:OrphanMinAge must not be negative";
        }

        return null;
    }
}

/// <summary>When the AWS SDK computes request checksums and validates response checksums.</summary>
public enum S3ChecksumMode
{
    /// <summary>Only for operations that require one (DeleteObjects): works with every S3-compatible server.</summary>
    WhenRequired,

    /// <summary>For every operation that supports one (the SDK's default; AWS S3 and recent servers only).</summary>
    WhenSupported,
}
