using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Pprof;

namespace Profefe.Core;

/// <summary>
/// Ingests one pushed profile (profefe's collector): validates pprof data, picks the creation time and
/// the id, and stores it. Traces are stored as they came, without parsing.
/// </summary>
public sealed class ProfileCollector
{
    private readonly IProfileWriter _writer;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ProfileCollector> _logger;
    private readonly ProfileDecoderOptions _decoderOptions;

    public ProfileCollector(IProfileWriter writer, IOptions<CollectorOptions> options, TimeProvider timeProvider, ILogger<ProfileCollector> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _writer = writer;
        _timeProvider = timeProvider;
        _logger = logger;
        _decoderOptions = new ProfileDecoderOptions { MaxDecompressedBytes = options.Value.MaxDecompressedBytes };
    }

    /// <exception cref="ProfileRequestException">the body is not a valid profile (400).</exception>
    /// <exception cref="StorageUnavailableException">the store could not take the profile; nothing was stored.</exception>
    public async Task<ProfileMeta> CollectAsync(CollectParameters parameters, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var data = body;
        DateTime? profileTime = null;
        if (parameters.Type != ProfileType.Trace)
        {
            var validation = Validate(body.Span);
            if (validation.TimeNanos > 0)
            {
                profileTime = DateTime.UnixEpoch.AddTicks(validation.TimeNanos / 100);
            }

            if (validation.Normalized is { } normalized)
            {
                data = ProfileEncoder.EncodeToArray(normalized);
                Log.ProfileRewritten(_logger, parameters.Service, body.Length, data.Length);
            }
        }

        var now = _timeProvider.GetUtcNow().UtcDateTime;
        var createdAt = profileTime ?? parameters.CreatedAt ?? now;

        // Like profefe's xid, the id carries the time of arrival, not the profile's time.
        var meta = new ProfileMeta(ProfileId.NewId(now), parameters.Type, parameters.Service, parameters.Labels, createdAt);
        await _writer.WriteProfileAsync(meta, data, cancellationToken).ConfigureAwait(false);
        Log.ProfileCollected(_logger, meta.ProfileId, meta.Service, meta.Type, data.Length);
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
            throw MalformedProfile(e);
        }
    }

    internal static ProfileRequestException MalformedProfile(ProfileFormatException e) =>
        new(400, $"malformed profile (could not parse pprof profile: {e.Message})", e);
}
