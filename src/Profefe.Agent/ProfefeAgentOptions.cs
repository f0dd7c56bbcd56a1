using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace Profefe.Agent;

/// <summary>Settings of the <see cref="ProfefeAgent"/>: where to push, under which service, and what to collect how often.</summary>
public sealed class ProfefeAgentOptions : IValidatableObject
{
    /// <summary>The configuration section <c>AddProfefeAgent</c> binds: <c>Profefe:Agent</c>.</summary>
    public const string SectionName = "Profefe:Agent";

    /// <summary>The collector's root address, e.g. <c>http://localhost:10100</c> (required).</summary>
    public Uri? CollectorAddress { get; set; }

    /// <summary>The service name the profiles are stored under (required).</summary>
    public string Service { get; set; } = "";

    /// <summary>Labels attached to every pushed profile (for example <c>host</c>, <c>version</c>).</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Time between the starts of two collection rounds. Default 1 minute.</summary>
    public TimeSpan Tick { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long each round profiles. Default 10 seconds. The overhead is bounded by <see cref="CpuDuration"/> /
    /// <see cref="Tick"/> times what a round costs while it runs.
    /// </summary>
    public TimeSpan CpuDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Upper bound of a random delay added before each round, so that a fleet started together does not profile in
    /// lockstep. Default 5 seconds.
    /// </summary>
    public TimeSpan Jitter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Which profiles to collect. Default <c>cpu</c>, <c>heap</c> and <c>mutex</c>.</summary>
    public ProfileKinds Profiles { get; set; } = ProfileKinds.Cpu | ProfileKinds.Heap | ProfileKinds.Mutex;

    /// <summary>
    /// Take the <c>cpu</c> profile from Linux perf events (each thread's CPU clock, 100 samples per second of its CPU
    /// time, user-space stacks) rather than EventPipe's sample profiler, which suspends every thread a thousand times a
    /// second. Where perf events cannot be opened (not Linux, <c>perf_event_paranoid</c> 3, seccomp, no permission on
    /// the target) the agent logs it once and uses EventPipe. Default true.
    /// </summary>
    public bool PerfEvents { get; set; } = true;

    /// <summary>
    /// How many encoded profiles wait for upload at most; when full, the oldest is dropped. Default 16.
    /// </summary>
    public int QueueSize { get; set; } = 16;

    /// <summary>
    /// How many allocation events per second are turned into samples; beyond that the agent samples the events
    /// and upscales, so that allocation-heavy applications pay a bounded cost. Default 2000.
    /// </summary>
    public int MaxAllocationEventsPerSecond { get; set; } = 2000;

    /// <summary>
    /// The process to profile: null (the default) profiles the current process; a process id attaches to another
    /// .NET process over its diagnostics socket (what <c>profefe agent --pid</c> does).
    /// </summary>
    public int? ProcessId { get; set; }

    /// <summary>First delay before retrying a failed upload; it doubles up to <see cref="MaxRetryDelay"/>. Default 5 seconds.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest delay between two upload attempts. Default 2 minutes.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Upload attempts per profile before it is dropped. Default 10.</summary>
    public int MaxUploadAttempts { get; set; } = 10;

    /// <summary>Timeout of one upload request. Default 30 seconds.</summary>
    public TimeSpan UploadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long stopping the agent waits for queued profiles to be uploaded. Default 5 seconds.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Every invalid setting, each message naming its key and the value it has.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CollectorAddress is null || !CollectorAddress.IsAbsoluteUri
            || (CollectorAddress.Scheme != Uri.UriSchemeHttp && CollectorAddress.Scheme != Uri.UriSchemeHttps))
        {
            yield return Invalid(nameof(CollectorAddress), CollectorAddress?.OriginalString, "an absolute http(s) address of the collector");
        }

        if (string.IsNullOrWhiteSpace(Service))
        {
            yield return Invalid(nameof(Service), Service, "set");
        }

        if (Tick <= TimeSpan.Zero)
        {
            yield return Invalid(nameof(Tick), Tick, "positive");
        }

        if (CpuDuration <= TimeSpan.Zero || CpuDuration > Tick)
        {
            yield return Invalid(nameof(CpuDuration), CpuDuration, $"positive and at most Tick ({Tick})");
        }

        if (Jitter < TimeSpan.Zero)
        {
            yield return Invalid(nameof(Jitter), Jitter, "zero or more");
        }

        if (QueueSize < 1)
        {
            yield return Invalid(nameof(QueueSize), QueueSize, "at least 1");
        }

        if (MaxAllocationEventsPerSecond < 1)
        {
            yield return Invalid(nameof(MaxAllocationEventsPerSecond), MaxAllocationEventsPerSecond, "at least 1");
        }

        if (InitialRetryDelay < TimeSpan.Zero || InitialRetryDelay > MaxRetryDelay)
        {
            yield return Invalid(nameof(InitialRetryDelay), InitialRetryDelay, $"zero or more and at most MaxRetryDelay ({MaxRetryDelay})");
        }

        if (MaxUploadAttempts < 1)
        {
            yield return Invalid(nameof(MaxUploadAttempts), MaxUploadAttempts, "at least 1");
        }

        if (UploadTimeout <= TimeSpan.Zero)
        {
            yield return Invalid(nameof(UploadTimeout), UploadTimeout, "positive");
        }

        if (StopTimeout < TimeSpan.Zero)
        {
            yield return Invalid(nameof(StopTimeout), StopTimeout, "zero or more");
        }

        foreach (var label in Labels)
        {
            if (string.IsNullOrWhiteSpace(label.Key) || label.Key.Contains('=', StringComparison.Ordinal) || label.Key.Contains(',', StringComparison.Ordinal))
            {
                yield return new ValidationResult(
                    $"{SectionName}:Labels has the key \"{label.Key}\"; a label key must not be empty nor hold '=' or ','", [nameof(Labels)]);
            }
        }
    }

    private static ValidationResult Invalid(string setting, object? value, string must) =>
        new($"{SectionName}:{setting} is \"{Convert.ToString(value, CultureInfo.InvariantCulture)}\"; it must be {must}", [setting]);
}

/// <summary>Checks <see cref="ProfefeAgentOptions"/> (generated); the agent and <c>profefe agent</c> check with it too.</summary>
[OptionsValidator]
public sealed partial class ProfefeAgentOptionsValidator : IValidateOptions<ProfefeAgentOptions>;
