using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Views;
using Profefe.Server.Access;
using Profefe.Server.Pyroscope.Connect;
using Profefe.Server.Pyroscope.Protos.Querier;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>
/// Pyroscope's older HTTP render API, which Grafana's Profiles Drilldown still calls: <c>GET /pyroscope/render</c>
/// (a flamebearer flame graph with a timeline) and <c>/pyroscope/render-diff</c> (a "double" flamebearer).
/// <c>query</c> is a profile type followed by a label selector; <c>from</c>/<c>until</c> are "now", "now-1h" or Unix
/// seconds, milliseconds, microseconds or nanoseconds.
/// </summary>
internal static class RenderEndpoints
{
    // Pyroscope's timeline has at most this many points and none closer than ten seconds.
    private const int TimelinePoints = 1500;
    private const int MinTimelineStepSeconds = 10;

    public static void MapRenderEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/pyroscope/render", RenderAsync);
        endpoints.MapGet("/pyroscope/render-diff", RenderDiffAsync);
    }

    private static async Task RenderAsync(HttpContext context)
    {
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        try
        {
            var query = context.Request.Query;
            var request = ParseSelect(query, "query", "from", "until", now);
            var type = ProfileTypeId.Parse(request.ProfileTypeID);
            var profile = await QuerierEndpoints.MergeAsync(context, request).ConfigureAwait(false);
            var graph = FlameGraphExport.ToMessage(QuerierEndpoints.Layout(profile, QuerierEndpoints.MaxNodes(request.MaxNodes)));

            var stepSeconds = Math.Max(MinTimelineStepSeconds, (request.End - request.Start) / 1000 / TimelinePoints);
            var service = context.RequestServices.GetRequiredService<PyroscopeQueryService>();
            var (from, to) = QuerierEndpoints.Range(request.Start, request.End);
            var average = query["aggregation"] == "avg";
            var series = await service.TotalsByStepAsync(
                context.GetTenant(), type, LabelSelector.Parse(request.LabelSelector), from, to, request.Start, stepSeconds * 1000, [], average, 0, context.RequestAborted).ConfigureAwait(false);
            var points = series.Count == 1 ? series[0].Points : [];

            await WriteJsonAsync(context, writer =>
            {
                writer.WriteStartObject();
                writer.WriteNumber("version", 1);
                WriteFlamebearer(writer, graph.Names, graph.Levels, graph.Total, graph.MaxSelf);
                WriteMetadata(writer, type, "single");
                writer.WritePropertyName("timeline");
                WriteTimeline(writer, points, request.Start, request.End, stepSeconds);
                writer.WriteNull("groups");
                writer.WriteNull("heatmap");
                writer.WriteEndObject();
            }).ConfigureAwait(false);
        }
        catch (ConnectException e)
        {
            await WriteErrorAsync(context, e.Code, e.Message).ConfigureAwait(false);
        }
    }

    private static async Task RenderDiffAsync(HttpContext context)
    {
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        try
        {
            var query = context.Request.Query;
            var left = ParseSelect(query, "leftQuery", "leftFrom", "leftUntil", now);
            var right = ParseSelect(query, "rightQuery", "rightFrom", "rightUntil", now);
            if (left.ProfileTypeID != right.ProfileTypeID)
            {
                throw ConnectException.InvalidArgument($"profile types must match: \"{left.ProfileTypeID}\" and \"{right.ProfileTypeID}\"");
            }

            var type = ProfileTypeId.Parse(left.ProfileTypeID);
            var leftProfile = await QuerierEndpoints.MergeAsync(context, left).ConfigureAwait(false);
            var rightProfile = await QuerierEndpoints.MergeAsync(context, right).ConfigureAwait(false);
            var empty = new Pprof.Profile();
            empty.SampleTypes.Add(new Pprof.SampleType(type.SampleType, type.SampleUnit));
            var graph = FlameGraphExport.ToDiffMessage(FlameGraphBuilder.BuildDiff(leftProfile ?? empty, 0, rightProfile ?? empty, 0, QuerierEndpoints.MaxNodes(left.MaxNodes)));
            await WriteJsonAsync(context, writer =>
            {
                writer.WriteStartObject();
                writer.WriteNumber("version", 1);
                WriteFlamebearer(writer, graph.Names, graph.Levels, graph.Total, graph.MaxSelf);
                WriteMetadata(writer, type, "double");
                writer.WriteNull("timeline");
                writer.WriteNull("groups");
                writer.WriteNull("heatmap");
                writer.WriteNumber("leftTicks", graph.LeftTicks);
                writer.WriteNumber("rightTicks", graph.RightTicks);
                writer.WriteEndObject();
            }).ConfigureAwait(false);
        }
        catch (ConnectException e)
        {
            await WriteErrorAsync(context, e.Code, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>Reads <c>type{selector}</c> (or a selector with __name__ set to the type) and the time range.</summary>
    private static SelectMergeStacktracesRequest ParseSelect(IQueryCollection query, string queryName, string fromName, string untilName, DateTime now)
    {
        var text = query[queryName].ToString().Trim();
        if (text.Length == 0)
        {
            throw ConnectException.InvalidArgument($"\"{queryName}\" is required: <profile type>{{label=\"value\",...}}");
        }

        var brace = text.IndexOf('{', StringComparison.Ordinal);
        var typeText = brace < 0 ? text : text[..brace].Trim();
        var selector = brace < 0 ? LabelSelector.All : LabelSelector.Parse(text[brace..]);
        var matchers = new List<LabelMatcher>();
        foreach (var matcher in selector.Matchers)
        {
            if (matcher.Name == SeriesLabels.MetricName && matcher.Equal is { } typeValue && typeText.Length == 0)
            {
                typeText = typeValue;
            }
            else
            {
                matchers.Add(matcher);
            }
        }

        if (typeText.Length == 0)
        {
            throw ConnectException.InvalidArgument($"\"{queryName}\" must name a profile type, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds{{service_name=\"app\"}}");
        }

        var from = ParseTime(query[fromName].ToString(), fromName, now);
        var until = ParseTime(query[untilName].ToString(), untilName, now);
        var maxNodes = 0;
        foreach (var name in new[] { "max-nodes", "maxNodes" })
        {
            if (int.TryParse(query[name].ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value != 0)
            {
                maxNodes = value;
            }
        }

        return new SelectMergeStacktracesRequest
        {
            ProfileTypeID = ProfileTypeId.Parse(typeText).Id,
            LabelSelector = ToText(matchers),
            Start = QuerierEndpoints.UnixMilliseconds(from),
            End = QuerierEndpoints.UnixMilliseconds(until),
            MaxNodes = maxNodes,
        };
    }

    /// <summary>"now", "now-30m" (s, m, h, d, w), or Unix time in seconds, ms, µs or ns by digit count; empty is now.</summary>
    private static DateTime ParseTime(string text, string name, DateTime now)
    {
        text = text.Trim();
        if (text.Length == 0 || text == "now")
        {
            return now;
        }

        if (text.StartsWith("now-", StringComparison.Ordinal) && text.Length > 5
            && long.TryParse(text.AsSpan(4, text.Length - 5), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            TimeSpan? unit = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(1),
                'm' => TimeSpan.FromMinutes(1),
                'h' => TimeSpan.FromHours(1),
                'd' => TimeSpan.FromDays(1),
                'w' => TimeSpan.FromDays(7),
                _ => null,
            };
            if (unit is { } u && amount < 100_000)
            {
                return now - (u * amount);
            }
        }

        if (UnixTimeText.TryParse(text, out var time))
        {
            return time;
        }

        throw ConnectException.InvalidArgument($"bad \"{name}\" \"{text}\": want now, now-<n><s|m|h|d|w> or a Unix time");
    }

    private static string ToText(List<LabelMatcher> matchers) =>
        "{" + string.Join(",", matchers.Select(static m => m.Name + m.Operator + JsonSerializer.Serialize(m.Value, PyroscopeJsonContext.Default.String))) + "}";

    private static void WriteFlamebearer(Utf8JsonWriter writer, IEnumerable<string> names, IEnumerable<Level> levels, long total, long maxSelf)
    {
        writer.WriteStartObject("flamebearer");
        writer.WriteStartArray("names");
        foreach (var name in names)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("levels");
        foreach (var level in levels)
        {
            writer.WriteStartArray();
            foreach (var value in level.Values)
            {
                writer.WriteNumberValue(value);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
        writer.WriteNumber("numTicks", total);
        writer.WriteNumber("maxSelf", maxSelf);
        writer.WriteEndObject();
    }

    /// <summary>Units and sample rate as Pyroscope's flamebearer export gives them for the sample type.</summary>
    private static void WriteMetadata(Utf8JsonWriter writer, ProfileTypeId type, string format)
    {
        var (units, sampleRate) = type.SampleType switch
        {
            "inuse_objects" or "alloc_objects" or "goroutine" or "samples" => ("objects", 100),
            "cpu" => ("samples", 1_000_000_000),
            _ => (type.SampleUnit, 100),
        };
        writer.WriteStartObject("metadata");
        writer.WriteString("format", format);
        writer.WriteString("spyName", "");
        writer.WriteNumber("sampleRate", sampleRate);
        writer.WriteString("units", units);
        writer.WriteString("name", type.SampleType);
        writer.WriteEndObject();
    }

    private static void WriteTimeline(Utf8JsonWriter writer, List<(long TimestampMs, double Value)> points, long startMs, long endMs, long stepSeconds)
    {
        var stepMs = stepSeconds * 1000;
        var count = (int)Math.Min(TimelinePoints * 2, Math.Max(1, ((endMs - startMs) / stepMs) + 1));
        var samples = new double[count];
        foreach (var (timestamp, value) in points)
        {
            var index = (timestamp - startMs) / stepMs;
            if (index >= 0 && index < count)
            {
                samples[index] += value;
            }
        }

        writer.WriteStartObject();
        writer.WriteNumber("startTime", startMs / 1000);
        writer.WriteStartArray("samples");
        foreach (var sample in samples)
        {
            writer.WriteNumberValue((long)sample);
        }

        writer.WriteEndArray();
        writer.WriteNumber("durationDelta", stepSeconds);
        writer.WriteNull("watermarks");
        writer.WriteEndObject();
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write, int status = StatusCodes.Status200OK)
    {
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(HttpContext context, string code, string message) =>
        WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
        }, ConnectCode.HttpStatusOf(code));
}
