using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Tenancy;
using Profefe.Pprof;
using Profefe.Server.Idempotency;
using Profefe.Server.Pyroscope.Protos.Push;

namespace Profefe.Server.Pyroscope.Ingest;

/// <summary>
/// Stores what Pyroscope's clients send (<c>/ingest</c> in every format, and Push) through profefe's own ingest
/// path (<see cref="ProfileCollector"/>), so profefe's API lists, downloads and merges it. Everything in a request
/// is parsed and checked before the first profile is stored: a refused request stores nothing. A Push sample with an
/// ID, and an /ingest with an Idempotency-Key, is stored once however often it is retried (<see cref="IdempotentPushes"/>).
/// </summary>
internal sealed class PyroscopeIngester(ProfileCollector collector, IdempotentPushes idempotentPushes, IOptions<CollectorOptions> options, InflateBudget inflateBudget)
{
    /// <summary>What a Push sample's ID is called in messages, and its own namespace of idempotency keys.</summary>
    public const string SampleIdName = "Push sample ID";

    private readonly ProfileDecoderOptions _decoderOptions = new()
    {
        MaxDecompressedBytes = options.Value.MaxDecompressedBytes,
        RequireSamples = false,
        InflateBudget = inflateBudget,
    };

    /// <summary>
    /// What is stored: profefe's parameters and the profile's bytes, and when the client named the push, its key
    /// (<see cref="IdempotentPushes.CollectOnceAsync"/>).
    /// </summary>
    private sealed record PreparedProfile(CollectParameters Parameters, ReadOnlyMemory<byte> Data)
    {
        public (string Name, string Key, byte[] Fingerprint)? Once { get; init; }
    }

    /// <param name="idempotencyKey">The request's Idempotency-Key (checked), or null.</param>
    /// <param name="query">The request's query string, part of what a retry must repeat to be one.</param>
    /// <returns>The profiles newly stored (an empty upload or a retry stores none).</returns>
    /// <exception cref="ProfileRequestException">
    /// 400 for bad parameters, 422 for a body that does not parse or a key used for a different request.
    /// </exception>
    public async Task<IReadOnlyList<ProfileMeta>> IngestAsync(
        IngestParameters parameters, string? contentType, ReadOnlyMemory<byte> body, TenantId tenant, string? idempotencyKey, string query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var prepared = new List<PreparedProfile>();
        var isForm = contentType?.Contains("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;
        switch (parameters.Format)
        {
            case "pprof" or "" when isForm:
                AddPprof(prepared, parameters, await PprofUpload.FromFormAsync(contentType!, body, cancellationToken).ConfigureAwait(false));
                break;
            case "pprof":
                AddPprof(prepared, parameters, PprofUpload.FromRaw(body));
                break;
            case "" or "folded" or "groups":
                AddStacks(prepared, parameters, builder => FoldedParser.ParseFolded(body.Span, builder));
                break;
            case "lines":
                AddStacks(prepared, parameters, builder => FoldedParser.ParseLines(body.Span, builder));
                break;
            case "speedscope":
                AddSpeedscope(prepared, parameters, body);
                break;
            case "jfr":
                throw new ProfileRequestException(422, "format=jfr (Java Flight Recorder) is not supported by this collector yet; send pprof");
            default:
                throw new ProfileRequestException(400, $"bad \"format\" \"{parameters.Format}\": want pprof, folded, lines or speedscope");
        }

        if (idempotencyKey is not null)
        {
            // One upload may hold several profiles (speedscope): each is remembered under the key and its place.
            var fingerprint = IdempotentPushes.Fingerprint(query, body.Span);
            for (var i = 0; i < prepared.Count; i++)
            {
                prepared[i] = prepared[i] with { Once = (IdempotentPushes.HeaderName, i == 0 ? idempotencyKey : $"{idempotencyKey}#{i}", fingerprint) };
            }
        }

        return await StoreAsync(prepared, tenant, cancellationToken).ConfigureAwait(false);
    }

    /// <returns>The profiles newly stored: a sample whose ID was stored within the idempotency window is not stored again.</returns>
    /// <exception cref="ProfileRequestException">
    /// 400 naming the series or sample that is wrong, 422 for a sample ID used for a different sample.
    /// </exception>
    public Task<IReadOnlyList<ProfileMeta>> PushAsync(PushRequest request, TenantId tenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var prepared = new List<PreparedProfile>();
        for (var s = 0; s < request.Series.Count; s++)
        {
            var series = request.Series[s];
            string? name = null;
            var service = "unknown_service";
            var labels = new List<Label>();
            foreach (var pair in series.Labels)
            {
                if (!IngestParameters.IsLabelName(pair.Name))
                {
                    throw new ProfileRequestException(400, $"series {s}: bad label name \"{pair.Name}\"");
                }

                switch (pair.Name)
                {
                    case SeriesLabels.MetricName:
                        name = pair.Value;
                        break;
                    case SeriesLabels.ServiceName:
                        service = pair.Value;
                        break;
                    default:
                        labels.Add(new Label(pair.Name, pair.Value));
                        break;
                }
            }

            if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(service))
            {
                throw new ProfileRequestException(400, $"series {s}: labels need a non-empty {SeriesLabels.MetricName} and {SeriesLabels.ServiceName}");
            }

            var (storedService, type, storedLabels) = SeriesLabels.ToStored(name, service, labels);
            var parameters = new CollectParameters(storedService, type, storedLabels, null, OneLayoutPerService: false);
            for (var i = 0; i < series.Samples.Count; i++)
            {
                var sample = series.Samples[i];
                if (sample.ID.Length > 0 && IdempotentPushes.Problem(sample.ID, SampleIdName) is { } problem)
                {
                    throw new ProfileRequestException(400, $"series {s} sample {i}: {problem}");
                }

                var data = sample.RawProfile.Memory;
                var profile = Decode(data, $"series {s} sample {i}: ", 400);
                if (profile.Samples.Count > 0)
                {
                    prepared.Add(new PreparedProfile(parameters, data)
                    {
                        Once = sample.ID.Length > 0 ? (SampleIdName, sample.ID, FingerprintOf(parameters, data.Span)) : null,
                    });
                }
            }
        }

        return StoreAsync(prepared, tenant, cancellationToken);
    }

    /// <summary>What a sample asks to store: the same ID with another series or profile is a different push.</summary>
    private static byte[] FingerprintOf(CollectParameters parameters, ReadOnlySpan<byte> data)
    {
        var what = new System.Text.StringBuilder(parameters.Service).Append('\0').Append(ProfileTypeNames.ToWireName(parameters.Type));
        foreach (var label in parameters.Labels)
        {
            what.Append('\0').Append(label.Key).Append('=').Append(label.Value);
        }

        return IdempotentPushes.Fingerprint(what.ToString(), data);
    }

    private void AddPprof(List<PreparedProfile> prepared, IngestParameters parameters, PprofUpload upload)
    {
        if (upload.Profile.IsEmpty)
        {
            return;
        }

        var profile = Decode(upload.Profile, "", 422);
        if (profile.Samples.Count == 0)
        {
            return;
        }

        var data = upload.Profile;
        var rewritten = false;
        for (var i = 0; i < profile.SampleTypes.Count; i++)
        {
            if (upload.SampleTypeConfig.TryGetValue(profile.SampleTypes[i].Type, out var config) && config.DisplayName is { Length: > 0 } display
                && display != profile.SampleTypes[i].Type)
            {
                profile.SampleTypes[i] = profile.SampleTypes[i] with { Type = display };
                rewritten = true;
            }
        }

        // Old SDKs put microseconds (or nothing) where nanoseconds belong; the upload's start is then the better time.
        if (profile.TimeNanos < TimeSpan.TicksPerDay * 365 * 100)
        {
            profile.TimeNanos = (parameters.From - DateTime.UnixEpoch).Ticks * 100;
            rewritten = true;
        }

        if (rewritten)
        {
            data = ProfileEncoder.EncodeToArray(profile);
        }

        prepared.Add(Prepare(parameters, parameters.Application, MetricNameOf(profile), data));
    }

    private static void AddStacks(List<PreparedProfile> prepared, IngestParameters parameters, Action<StackProfileBuilder> parse)
    {
        var (application, kind) = TextProfileKind.FromApplication(parameters.Application);
        var builder = new StackProfileBuilder();
        parse(builder);
        if (builder.SampleCount == 0)
        {
            return;
        }

        prepared.Add(Prepare(parameters, application, kind.Metric, Encode(builder, kind, parameters, valuesAreNanoseconds: false)));
    }

    private static void AddSpeedscope(List<PreparedProfile> prepared, IngestParameters parameters, ReadOnlyMemory<byte> body)
    {
        var (application, kind) = TextProfileKind.FromApplication(parameters.Application);
        foreach (var part in SpeedscopeParser.Parse(body))
        {
            if (part.Stacks.SampleCount == 0)
            {
                continue;
            }

            // Bytes are memory whatever the name says; times go to the name's kind (cpu unless named otherwise).
            var partKind = part.Unit == "bytes" && kind.Metric != "memory" ? new TextProfileKind("memory", "alloc_space", "bytes", IsTime: false) : kind;
            prepared.Add(Prepare(parameters, application, partKind.Metric, Encode(part.Stacks, partKind, parameters, part.Nanoseconds)));
        }
    }

    private static byte[] Encode(StackProfileBuilder builder, TextProfileKind kind, IngestParameters parameters, bool valuesAreNanoseconds)
    {
        Profile profile;
        if (kind.IsTime)
        {
            var period = TimeSpan.NanosecondsPerTick * TimeSpan.TicksPerSecond / parameters.SampleRate;
            profile = builder.Build(
                new SampleType(kind.SampleType, "nanoseconds"), new SampleType("cpu", "nanoseconds"), period, parameters.From, parameters.Until,
                valuesAreNanoseconds ? 1 : period);
        }
        else
        {
            profile = builder.Build(new SampleType(kind.SampleType, kind.Unit), null, 0, parameters.From, parameters.Until, 1);
        }

        return ProfileEncoder.EncodeToArray(profile);
    }

    private static PreparedProfile Prepare(IngestParameters parameters, string application, string metric, ReadOnlyMemory<byte> data)
    {
        var service = application;
        var labels = new List<Label>(parameters.Labels.Count + 1);
        foreach (var label in parameters.Labels)
        {
            if (label.Key == SeriesLabels.ServiceName)
            {
                service = label.Value;
            }
            else
            {
                labels.Add(label);
            }
        }

        if (parameters.SpyName != "unknown")
        {
            labels.Add(new Label(IngestParameters.SpyLabel, parameters.SpyName));
        }

        var (storedService, type, storedLabels) = SeriesLabels.ToStored(metric, service, labels);
        return new PreparedProfile(new CollectParameters(storedService, type, storedLabels, parameters.From, OneLayoutPerService: false), data);
    }

    /// <summary>Pyroscope's name for an uploaded pprof profile, from its (renamed) sample types.</summary>
    private static string MetricNameOf(Profile profile)
    {
        foreach (var sampleType in profile.SampleTypes)
        {
            if (sampleType.Type == "wall")
            {
                return "wall";
            }
        }

        foreach (var sampleType in profile.SampleTypes)
        {
            var type = sampleType.Type;
            if (type.Contains("cpu", StringComparison.Ordinal))
            {
                return "process_cpu";
            }

            if (type.Contains("alloc_", StringComparison.Ordinal) || type.Contains("inuse_", StringComparison.Ordinal) || type is "space" or "objects")
            {
                return "memory";
            }

            if (type.Contains("mutex_", StringComparison.Ordinal))
            {
                return "mutex";
            }

            if (type.Contains("block_", StringComparison.Ordinal))
            {
                return "block";
            }

            if (type.Contains("goroutine", StringComparison.Ordinal))
            {
                return "goroutine";
            }
        }

        return profile.SampleTypes.Count > 0 ? profile.SampleTypes[^1].Type : "unknown";
    }

    private Profile Decode(ReadOnlyMemory<byte> data, string where, int status)
    {
        try
        {
            return ProfileDecoder.Decode(data.Span, _decoderOptions);
        }
        catch (ProfileFormatException e)
        {
            throw ProfileCollector.LimitRefusal(e) ?? new ProfileRequestException(status, $"{where}malformed pprof profile: {e.Message}", e);
        }
    }

    private async Task<IReadOnlyList<ProfileMeta>> StoreAsync(List<PreparedProfile> prepared, TenantId tenant, CancellationToken cancellationToken)
    {
        // Once checked, the writes run to completion even if the client leaves: each is acknowledged and durable or never happened.
        // (Only waiting for a concurrent first push of the same key stops when the client leaves.)
        var stored = new List<ProfileMeta>(prepared.Count);
        foreach (var profile in prepared)
        {
            Task<ProfileMeta> CollectAsync() => collector.CollectAsync(tenant, profile.Parameters, profile.Data, CancellationToken.None);
            if (profile.Once is not { } once)
            {
                stored.Add(await CollectAsync().ConfigureAwait(false));
                continue;
            }

            var (meta, replayed) = await idempotentPushes.CollectOnceAsync(tenant, once.Key, once.Fingerprint, CollectAsync, cancellationToken, once.Name).ConfigureAwait(false);
            if (!replayed)
            {
                stored.Add(meta);
            }
        }

        return stored;
    }
}
