using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Server.Access;

namespace Profefe.Server.Ui;

/// <summary>
/// The JSON the web UI reads, under /api/ui/: views computed here (flame graph, top table, timeline, diff) so
/// the browser never parses pprof. Replies use profefe's envelope, <c>{"code","body"}</c> or <c>{"code","error"}</c>.
/// </summary>
internal static class UiEndpoints
{
    /// <summary>
    /// Past this many profiles the timeline shows when they were taken but not their totals: each total reads the
    /// profile from storage and inflates it (though it does not decode it, see <see cref="ProfileTotals"/>).
    /// </summary>
    public const int MaxTimelineTotals = 2000;

    private const int MaxNodesLimit = 65_536;

    /// <summary>Like /api/0/services, but an empty collector answers an empty list, not 404 (which browsers log as an error).</summary>
    public static async Task ServicesAsync(HttpContext context, ProfileQuerier querier)
    {
        var services = await querier.ListServicesAsync(context.GetTenant(), context.RequestAborted).ConfigureAwait(false);
        await WriteBodyAsync(context, json =>
        {
            json.WriteStartArray();
            foreach (var service in services)
            {
                json.WriteStringValue(service);
            }

            json.WriteEndArray();
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The newest profile of the service that sent one last (service, type, created_at), where the start page opens;
    /// null when nothing is stored (not 404, which browsers log as an error).
    /// </summary>
    public static async Task LatestAsync(HttpContext context, ProfileQuerier querier)
    {
        ProfileMeta? latest = null;
        foreach (var service in await querier.ListServicesAsync(context.GetTenant(), context.RequestAborted).ConfigureAwait(false))
        {
            // Limit 1 keeps the most recent match, which the stores find without reading the service's other profiles.
            var query = new ProfileQuery(service, null, [], DateTime.UnixEpoch, DateTime.MaxValue, Limit: 1);
            try
            {
                var metas = await querier.FindProfilesAsync(context.GetTenant(), query, context.RequestAborted).ConfigureAwait(false);
                if (latest is null || metas[^1].CreatedAt > latest.CreatedAt)
                {
                    latest = metas[^1];
                }
            }
            catch (ProfileRequestException e) when (e.StatusCode == StatusCodes.Status404NotFound)
            {
                // A service whose profiles were all deleted since it was listed.
            }
        }

        await WriteBodyAsync(context, json =>
        {
            if (latest is null)
            {
                json.WriteNullValue();
                return;
            }

            json.WriteStartObject();
            json.WriteString("service", latest.Service);
            json.WriteString("type", ProfileTypeNames.ToWireName(latest.Type));
            json.WriteString("created_at", latest.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }).ConfigureAwait(false);
    }

    public static async Task TimelineAsync(HttpContext context, ProfileQuerier querier, IProfileReader reader, IOptions<CollectorOptions> options)
    {
        var request = context.Request.Query;
        var query = ProfileRequestParser.ParseQuery(name => UiSource.First(request, name));
        IReadOnlyList<ProfileMeta> metas;
        try
        {
            metas = await querier.FindProfilesAsync(context.GetTenant(), query, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ProfileRequestException e) when (e.StatusCode == StatusCodes.Status404NotFound)
        {
            metas = [];
        }

        var builder = new TimelineBuilder(NullIfEmpty(UiSource.First(request, "sample_type")));
        var withTotals = metas.Count <= MaxTimelineTotals;
        if (withTotals)
        {
            var decoderOptions = DecoderOptions(options);
            var ids = new ProfileId[metas.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = metas[i].ProfileId;
            }

            await foreach (var stored in reader.ListProfilesAsync(context.GetTenant(), ids, context.RequestAborted).ConfigureAwait(false))
            {
                if (stored.Meta.Type != ProfileType.Trace && ProfileTotals.TryRead(stored.Data, decoderOptions.MaxDecompressedBytes, out var totals))
                {
                    builder.AddTotals(stored.Meta, totals);
                }
                else
                {
                    builder.Add(stored.Meta, TryDecode(stored, decoderOptions));
                }
            }
        }
        else
        {
            foreach (var meta in metas)
            {
                builder.Add(meta, null);
            }
        }

        var timeline = builder.Build();
        await WriteBodyAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("sampleType", timeline.SampleType);
            json.WriteString("unit", timeline.Unit);
            json.WriteBoolean("totals", withTotals);
            json.WriteNumber("maxTotals", MaxTimelineTotals);
            json.WriteStartArray("points");
            foreach (var point in timeline.Points)
            {
                json.WriteStartObject();
                json.WriteString("id", point.Meta.ProfileId.ToString());
                json.WriteString("type", ProfileTypeNames.ToWireName(point.Meta.Type));
                json.WriteString("created_at", point.Meta.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                UiJson.WriteLabels(json, point.Meta.Labels);
                if (point.Total is { } total)
                {
                    json.WriteNumber("total", total);
                }
                else
                {
                    json.WriteNull("total");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }).ConfigureAwait(false);
    }

    public static async Task ProfileAsync(HttpContext context, ProfileQuerier querier, IOptions<CollectorOptions> options)
    {
        var request = context.Request.Query;
        var source = UiSource.Parse(request, "");
        var maxNodes = ParseMaxNodes(request);
        var started = Stopwatch.GetTimestamp();
        var loaded = await LoadAsync(querier, context.GetTenant(), source, options, context.RequestAborted).ConfigureAwait(false);
        var loadedAt = Stopwatch.GetTimestamp();
        var sampleIndex = ResolveSampleType(loaded.Profile, UiSource.First(request, "sample_type"));
        // The two views only read the profile, so they are built side by side.
        var topTask = Task.Run(() => TopTableBuilder.Build(loaded.Profile, sampleIndex), context.RequestAborted);
        var flame = FlameGraphBuilder.Build(loaded.Profile, sampleIndex, maxNodes);
        var top = await topTask.ConfigureAwait(false);
        SetServerTiming(context, started, loadedAt);
        var download = source.DownloadPath();
        var baseUrl = BaseUrl(context);
        await WriteBodyAsync(context, json =>
        {
            json.WriteStartObject();
            WriteSource(json, source, loaded.Metas, baseUrl);
            UiJson.WriteProfileSummary(json, loaded.Profile, sampleIndex);
            json.WriteString("pprofCommand", "go tool pprof -http=: '" + baseUrl + download + "'");
            json.WritePropertyName("flame");
            UiJson.WriteFlameGraph(json, flame);
            json.WritePropertyName("top");
            UiJson.WriteTopTable(json, top);
            json.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// One frame's part of the profile's flame graph, capped on its own: the page asks for it when the user zooms
    /// into a frame whose callees the whole graph's cap summed into "other". <c>focus</c> (repeated) names the
    /// frames from the root's child down to that frame.
    /// </summary>
    public static async Task FlameAsync(HttpContext context, ProfileQuerier querier, IOptions<CollectorOptions> options)
    {
        var request = context.Request.Query;
        var source = UiSource.Parse(request, "");
        var maxNodes = ParseMaxNodes(request);
        var path = new List<string>();
        foreach (var frame in request["focus"])
        {
            path.Add(frame ?? "");
        }

        var started = Stopwatch.GetTimestamp();
        var loaded = await LoadAsync(querier, context.GetTenant(), source, options, context.RequestAborted).ConfigureAwait(false);
        var loadedAt = Stopwatch.GetTimestamp();
        var sampleIndex = ResolveSampleType(loaded.Profile, UiSource.First(request, "sample_type"));
        var flame = FlameGraphBuilder.BuildSubtree(loaded.Profile, sampleIndex, path, maxNodes);
        SetServerTiming(context, started, loadedAt);
        await WriteBodyAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("focus");
            foreach (var frame in path)
            {
                json.WriteStringValue(frame);
            }

            json.WriteEndArray();
            json.WritePropertyName("flame");
            UiJson.WriteFlameGraph(json, flame);
            json.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>Base against new, as <c>go tool pprof -diff_base=base new</c>; also each side's own flame graph.</summary>
    public static async Task CompareAsync(HttpContext context, ProfileQuerier querier, IOptions<CollectorOptions> options)
    {
        var request = context.Request.Query;
        var baseSource = UiSource.Parse(request, "base_");
        var newSource = UiSource.Parse(request, "new_");
        if (baseSource.Query is { } baseQuery && newSource.Query is { } newQuery && baseQuery.To == newQuery.From)
        {
            // Adjacent ranges ("compare with the previous period") share their boundary, and both ends of a range
            // are inclusive: the instant belongs to the new side only, so no profile is counted on both sides.
            baseSource = baseSource with { Query = baseQuery with { To = baseQuery.To.AddTicks(-1) } };
        }

        var maxNodes = ParseMaxNodes(request);
        var baseLoaded = await LoadAsync(querier, context.GetTenant(), baseSource, options, context.RequestAborted).ConfigureAwait(false);
        var newLoaded = await LoadAsync(querier, context.GetTenant(), newSource, options, context.RequestAborted).ConfigureAwait(false);
        var sampleType = UiSource.First(request, "sample_type");
        var newIndex = ResolveSampleType(newLoaded.Profile, sampleType);
        var baseIndex = ResolveSampleType(baseLoaded.Profile, newLoaded.Profile.SampleTypes[newIndex].Type);
        var diff = FlameGraphBuilder.BuildDiff(baseLoaded.Profile, baseIndex, newLoaded.Profile, newIndex, maxNodes);
        var top = TopTableBuilder.BuildDiff(baseLoaded.Profile, baseIndex, newLoaded.Profile, newIndex);
        var baseFlame = FlameGraphBuilder.Build(baseLoaded.Profile, baseIndex, maxNodes);
        var newFlame = FlameGraphBuilder.Build(newLoaded.Profile, newIndex, maxNodes);
        var baseUrl = BaseUrl(context);
        await WriteBodyAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("base");
            WriteSource(json, baseSource, baseLoaded.Metas, baseUrl);
            json.WritePropertyName("flame");
            UiJson.WriteFlameGraph(json, baseFlame);
            json.WriteEndObject();
            json.WriteStartObject("new");
            WriteSource(json, newSource, newLoaded.Metas, baseUrl);
            json.WritePropertyName("flame");
            UiJson.WriteFlameGraph(json, newFlame);
            json.WriteEndObject();
            UiJson.WriteProfileSummary(json, newLoaded.Profile, newIndex);
            json.WriteString("pprofCommand", "go tool pprof -http=: -diff_base='" + baseUrl + baseSource.DownloadPath() + "' '" + baseUrl + newSource.DownloadPath() + "'");
            json.WritePropertyName("flame");
            UiJson.WriteFlameGraph(json, diff);
            json.WritePropertyName("top");
            UiJson.WriteTopTable(json, top);
            json.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>Turns the collector's failures into profefe's JSON error envelope.</summary>
    public static async Task GuardAsync(HttpContext context, Func<Task> handler)
    {
        try
        {
            await handler().ConfigureAwait(false);
        }
        catch (ProfileRequestException e)
        {
            await WriteErrorAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        catch (ProfileFormatException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status422UnprocessableEntity, "could not parse pprof profile: " + e.Message).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "bad request: " + StripParameter(e)).ConfigureAwait(false);
        }
        catch (StorageUnavailableException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, $"storage unavailable ({e.Dependency})").ConfigureAwait(false);
        }
    }

    private static async Task<LoadedProfile> LoadAsync(ProfileQuerier querier, TenantId tenant, UiSource source, IOptions<CollectorOptions> options, CancellationToken cancellationToken)
    {
        if (source.Query is { } query)
        {
            var metas = await querier.FindProfilesAsync(tenant, query, cancellationToken).ConfigureAwait(false);
            var merged = await querier.MergeProfilesAsync(tenant, query, cancellationToken).ConfigureAwait(false);
            return new LoadedProfile(merged, metas);
        }

        if (source.Ids.Count == 1)
        {
            var stored = await querier.GetProfileAsync(tenant, source.Ids[0], cancellationToken).ConfigureAwait(false);
            if (stored.Meta.Type == ProfileType.Trace)
            {
                throw ProfileRequestException.BadRequest("a trace is not a pprof profile; download it and open it with go tool trace");
            }

            return new LoadedProfile(ProfileDecoder.Decode(stored.Data.Span, DecoderOptions(options)), [stored.Meta]);
        }

        var profile = await querier.MergeProfilesAsync(tenant, source.Ids, cancellationToken).ConfigureAwait(false);
        return new LoadedProfile(profile, []);
    }

    private static void WriteSource(Utf8JsonWriter json, UiSource source, IReadOnlyList<ProfileMeta> metas, string baseUrl)
    {
        json.WriteString("download", baseUrl + source.DownloadPath());
        json.WriteStartArray("ids");
        foreach (var id in source.Ids)
        {
            json.WriteStringValue(id.ToString());
        }

        json.WriteEndArray();
        if (source.Query is { } query)
        {
            json.WriteStartObject("query");
            json.WriteString("service", query.Service);
            json.WriteString("type", ProfileTypeNames.ToWireName(query.Type ?? ProfileType.Unknown));
            UiJson.WriteLabels(json, query.Labels);
            json.WriteString("from", UiSource.FormatTime(query.From));
            json.WriteString("to", UiSource.FormatTime(query.To));
            json.WriteEndObject();
        }

        json.WriteNumber("profileCount", metas.Count > 0 ? metas.Count : source.Ids.Count);

        // A merge of a wide range can match hundreds of profiles; the page lists the first few.
        json.WriteStartArray("metas");
        for (var i = 0; i < metas.Count && i < 50; i++)
        {
            UiJson.WriteMeta(json, metas[i]);
        }

        json.WriteEndArray();
    }

    private static int ResolveSampleType(Profile profile, string? sampleType) =>
        SampleTypeIndex.Resolve(profile, NullIfEmpty(sampleType));

    private static int ParseMaxNodes(IQueryCollection query)
    {
        if (UiSource.First(query, "max_nodes") is not { Length: > 0 } text)
        {
            return FlameGraph.DefaultMaxNodes;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is > 0 and <= MaxNodesLimit
            ? value
            : throw ProfileRequestException.BadRequest($"bad \"max_nodes\" {UiSource.Quote(text)}: want a whole number from 1 to {MaxNodesLimit}");
    }

    private static Profile? TryDecode(StoredProfile stored, ProfileDecoderOptions options)
    {
        if (stored.Meta.Type == ProfileType.Trace)
        {
            return null;
        }

        try
        {
            return ProfileDecoder.Decode(stored.Data.Span, options);
        }
        catch (ProfileFormatException)
        {
            // The point still shows when the profile was taken; only its total is unknown.
            return null;
        }
    }

    /// <summary>
    /// Where the server's time went (read from storage and decode or merge, then the views), in the standard
    /// header browsers show next to the request, so a slow page tells whether to blame the collector.
    /// </summary>
    private static void SetServerTiming(HttpContext context, long started, long loadedAt)
    {
        var now = Stopwatch.GetTimestamp();
        context.Response.Headers["Server-Timing"] = string.Create(
            CultureInfo.InvariantCulture,
            $"load;desc=\"read and decode\";dur={Stopwatch.GetElapsedTime(started, loadedAt).TotalMilliseconds:F1}, views;desc=\"views\";dur={Stopwatch.GetElapsedTime(loadedAt, now).TotalMilliseconds:F1}");
    }

    private static ProfileDecoderOptions DecoderOptions(IOptions<CollectorOptions> options) =>
        new() { MaxDecompressedBytes = options.Value.MaxDecompressedBytes };

    private static string BaseUrl(HttpContext context) => context.Request.Scheme + "://" + context.Request.Host.Value;

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static string StripParameter(ArgumentException e) =>
        e.ParamName is { } name && e.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
            ? e.Message[..^$" (Parameter '{name}')".Length]
            : e.Message;

    private static async Task WriteBodyAsync(HttpContext context, Action<Utf8JsonWriter> writeBody)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        await using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteNumber("code", StatusCodes.Status200OK);
            json.WritePropertyName("body");
            writeBody(json);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteNumber("code", status);
            json.WriteString("error", message);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private sealed record LoadedProfile(Profile Profile, IReadOnlyList<ProfileMeta> Metas);
}
