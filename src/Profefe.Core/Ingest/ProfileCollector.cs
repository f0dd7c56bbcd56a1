using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Limits;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Core.Text;
using Profefe.Pprof;

namespace Profefe.Core.Ingest;

/// <summary>
/// Ingests one pushed profile (profefe's collector): validates pprof data, picks the creation time and
/// the id, and stores it. Traces are stored as they came, without parsing. Holds every push to the
/// Collector limits on profile content (samples, stack depth, labels) and to its type's sample types.
/// </summary>
public sealed class ProfileCollector
{
    private readonly IProfileWriter _writer;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ProfileCollector> _logger;
    private readonly CollectorOptions _options;
    private readonly ProfileDecoderOptions _decoderOptions;
    private readonly LabelValueTracker? _labelValues;
    private readonly StorageWriteStatus? _writeStatus;
    private readonly SampleLayoutTracker? _sampleLayouts;

    /// <param name="labelValues">Keeps the distinct values per label key under the limit; null does not count them.</param>
    /// <param name="writeStatus">Told of every write's outcome, for the health check; null tells nobody.</param>
    /// <param name="sampleLayouts">Holds each service's profiles of a type to one sample layout; null lets any in.</param>
    /// <param name="inflateBudget">The inflated bytes all uploads may hold at once; null holds them to none.</param>
    public ProfileCollector(
        IProfileWriter writer,
        IOptions<CollectorOptions> options,
        TimeProvider timeProvider,
        ILogger<ProfileCollector> logger,
        LabelValueTracker? labelValues = null,
        StorageWriteStatus? writeStatus = null,
        InflateBudget? inflateBudget = null,
        SampleLayoutTracker? sampleLayouts = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _writer = writer;
        _timeProvider = timeProvider;
        _logger = logger;
        _options = options.Value;
        _labelValues = labelValues;
        _writeStatus = writeStatus;
        _sampleLayouts = sampleLayouts;
        _decoderOptions = new ProfileDecoderOptions
        {
            MaxDecompressedBytes = _options.MaxDecompressedBytes,
            MaxSamples = _options.MaxSamplesPerProfile,
            MaxStackDepth = _options.MaxStackDepth,
            InflateBudget = inflateBudget,
        };
    }

    /// <summary>Checks what can be checked before the body is read: the labels' count and lengths.</summary>
    /// <exception cref="ProfileRequestException">400 naming the limit.</exception>
    public void CheckParameters(CollectParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var labels = parameters.Labels;
        if (labels.Count > _options.MaxLabelsPerProfile)
        {
            throw ProfileRequestException.OverLimit(400, "Collector:MaxLabelsPerProfile",
                $"bad request: {labels.Count} labels, more than the limit of {_options.MaxLabelsPerProfile} (Collector:MaxLabelsPerProfile)");
        }

        for (var i = 0; i < labels.Count; i++)
        {
            if (labels[i].Key.Length > _options.MaxLabelNameLength)
            {
                throw ProfileRequestException.OverLimit(400, "Collector:MaxLabelNameLength",
                    $"bad request: label key of {labels[i].Key.Length} characters, longer than the limit of {_options.MaxLabelNameLength} (Collector:MaxLabelNameLength)");
            }

            if (labels[i].Value.Length > _options.MaxLabelValueLength)
            {
                throw ProfileRequestException.OverLimit(400, "Collector:MaxLabelValueLength",
                    $"bad request: value of label {GoText.Quote(labels[i].Key)} has {labels[i].Value.Length} characters, more than the limit of {_options.MaxLabelValueLength} (Collector:MaxLabelValueLength)");
            }
        }
    }

    /// <exception cref="ProfileRequestException">
    /// the body is not a valid profile (400), is over a limit (400, 413 for the decompressed size), or its
    /// sample types contradict its type (400).
    /// </exception>
    /// <exception cref="StorageUnavailableException">the store could not take the profile; nothing was stored.</exception>
    public async Task<ProfileMeta> CollectAsync(TenantId tenant, CollectParameters parameters, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        CheckParameters(parameters);
        var data = body;
        DateTime? profileTime = null;
        if (parameters.Type != ProfileType.Trace)
        {
            var validation = Validate(body.Span);
            if (ProfileTypeConsistency.FindContradiction(parameters.Type, validation.SampleTypes) is { } contradiction)
            {
                var type = ProfileTypeNames.ToWireName(parameters.Type);
                throw ProfileRequestException.BadRequest(
                    $"profile pushed as type={type} has sample type \"{contradiction}\" of a {ProfileTypeNames.ToWireName(ProfileTypeConsistency.OwnerOf(contradiction))} profile " +
                    $"([{string.Join(' ', validation.SampleTypes)}]); push it with its own type or as type=other");
            }

            if (_sampleLayouts is not null
                && parameters.OneLayoutPerService
                && await _sampleLayouts.TryAddAsync(tenant, parameters.Service, parameters.Type, validation.Layout, _options.MaxDecompressedBytes, cancellationToken).ConfigureAwait(false) is { } known)
            {
                var type = ProfileTypeNames.ToWireName(parameters.Type);
                throw ProfileRequestException.BadRequest(
                    $"profile pushed as type={type} has sample types {validation.Layout}, but the {type} profiles of service {GoText.Quote(parameters.Service)} have {known}, " +
                    "and only profiles with the same sample and period types merge; push it under another service or as type=other");
            }

            if (validation.TimeNanos > 0)
            {
                profileTime = DateTime.UnixEpoch.AddTicks(validation.TimeNanos / 100);
            }

            if (validation.Normalized is { } normalized)
            {
                data = ProfileEncoder.EncodeToArray(normalized);
                var service = ControlCharacters.Escape(parameters.Service);
                Log.ProfileRewritten(_logger, service, body.Length, data.Length);
            }
        }

        if (_labelValues is not null
            && await _labelValues.TryAddAsync(tenant, parameters.Labels, _options.MaxLabelValuesPerKey, cancellationToken).ConfigureAwait(false) is { } crowdedKey)
        {
            throw ProfileRequestException.OverLimit(400, "Collector:MaxLabelValuesPerKey",
                $"bad request: label {GoText.Quote(crowdedKey)} already has {_options.MaxLabelValuesPerKey} distinct values, the limit (Collector:MaxLabelValuesPerKey); " +
                "use labels for what has few values (region, version), not for ids or times");
        }

        var now = _timeProvider.GetUtcNow().UtcDateTime;
        var createdAt = profileTime ?? parameters.CreatedAt ?? now;

        // Like profefe's xid, the id carries the time of arrival, not the profile's time.
        var meta = new ProfileMeta(ProfileId.NewId(now), parameters.Type, parameters.Service, parameters.Labels, createdAt, tenant);
        try
        {
            await _writer.WriteProfileAsync(meta, data, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _writeStatus?.RecordFailure(e);
            throw;
        }

        _writeStatus?.RecordSuccess();
        var loggedService = ControlCharacters.Escape(meta.Service);
        Log.ProfileCollected(_logger, meta.ProfileId, loggedService, meta.Type, data.Length);
        return meta;
    }

    private ProfileValidation Validate(ReadOnlySpan<byte> body)
    {
        try
        {
            // Bytes Go's pprof would reject (ids needing renumbering) or that only old tools read (legacy
            // formats) are stored re-encoded; anything else is kept exactly as it came.
            return ProfileDecoder.Validate(body, _decoderOptions);
        }
        catch (ProfileFormatException e)
        {
            throw LimitRefusal(e) ?? MalformedProfile(e);
        }
    }

    /// <summary>
    /// The answer to data over one of the decoder's limits, naming the Collector key that set it: 413 for the
    /// decompressed size, 429 with a Retry-After when the uploads in flight used up the inflate budget, else 400.
    /// Null when <paramref name="e"/> is not about a limit.
    /// </summary>
    public static ProfileRequestException? LimitRefusal(ProfileFormatException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.ExceededLimit is not { } limit)
        {
            return null;
        }

        if (limit == nameof(ProfileDecoderOptions.InflateBudget))
        {
            const string Budget = "Collector:MaxInflatedBytesInFlight";
            return new ProfileRequestException(429, $"too many requests: {e.Message} ({Budget})") { Limit = Budget, RetryAfter = TimeSpan.FromSeconds(1) };
        }

        var (status, key) = limit switch
        {
            nameof(ProfileDecoderOptions.MaxDecompressedBytes) => (413, "Collector:MaxDecompressedBytes"),
            nameof(ProfileDecoderOptions.MaxSamples) => (400, "Collector:MaxSamplesPerProfile"),
            _ => (400, "Collector:" + limit),
        };
        return ProfileRequestException.OverLimit(status, key, $"profile over a limit: {e.Message} ({key})");
    }

    internal static ProfileRequestException MalformedProfile(ProfileFormatException e) =>
        new(400, $"malformed profile (could not parse pprof profile: {e.Message})", e);
}
