using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Ingest;
using Profefe.Core.Query;
using Profefe.Server.Access;

namespace Profefe.Server.Api;

/// <summary>
/// GET /api/0/timeseries: the totals of a service's profiles of one type per step over [from, to], grouped by a
/// label's values (<c>group_by</c>), summed or averaged per profile (<c>aggregation=sum|avg</c>); the query
/// parameters are profefe's find parameters plus <c>step</c> (seconds or a .NET time span; default 1 hour).
/// Answered from the profile engine's totals, so a week of a fleet costs no profile decoding.
/// </summary>
internal static class TimeSeriesEndpoints
{
    public const string Path = "/api/0/timeseries";

    private const int MaxPoints = 100_000;

    public static IEndpointRouteBuilder MapTimeSeriesEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, GetAsync);
        return endpoints;
    }

    private static async Task GetAsync(HttpContext context)
    {
        context.Items[ApiRequestMiddleware.MetricsPathKey] = Path;
        var request = context.Request.Query;
        string? Query(string name) => request.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
        var query = ProfileRequestParser.ParseQuery(Query);
        ProfileQuerier.CheckMergeable(query.Type);
        var step = ParseStep(Query("step"));
        if ((query.To - query.From).Ticks / step.Ticks >= MaxPoints)
        {
            throw ProfileRequestException.BadRequest($"the range holds more than {MaxPoints} steps of {step}; use a larger \"step\"");
        }

        var average = Query("aggregation") switch
        {
            null or "" or "sum" => false,
            "avg" or "average" => true,
            var other => throw ProfileRequestException.BadRequest($"unknown aggregation {"\"" + other + "\""}: use \"sum\" or \"avg\""),
        };
        var groupBy = Query("group_by") is { Length: > 0 } g ? g : null;
        var series = await context.RequestServices.GetRequiredService<ProfileQuerier>()
            .GetTimeSeriesAsync(context.GetTenant(), query.Service, query.Type!.Value, query.Labels, query.From, query.To, step, groupBy, context.RequestAborted)
            .ConfigureAwait(false);

        await ApiReply.OkAsync(context, writer =>
        {
            writer.Raw("{\"sample_types\":").StringArray(series.SampleTypes)
                .Raw(",\"from\":").String(query.From.ToString("O", CultureInfo.InvariantCulture))
                .Raw(",\"step_seconds\":").Number((long)step.TotalSeconds)
                .Raw(",\"series\":[");
            for (var i = 0; i < series.Groups.Count; i++)
            {
                var group = series.Groups[i];
                writer.Raw(i == 0 ? "{\"group\":" : ",{\"group\":").String(group.Group).Raw(",\"counts\":[");
                for (var p = 0; p < group.Counts.Length; p++)
                {
                    writer.Raw(p == 0 ? "" : ",").Number(group.Counts[p]);
                }

                writer.Raw("],\"values\":[");
                for (var t = 0; t < group.Width; t++)
                {
                    writer.Raw(t == 0 ? "[" : ",[");
                    for (var p = 0; p < group.Counts.Length; p++)
                    {
                        var total = group.Totals[(p * group.Width) + t];
                        writer.Raw(p == 0 ? "" : ",").Number(average && group.Counts[p] > 0 ? total / group.Counts[p] : total);
                    }

                    writer.Raw("]");
                }

                writer.Raw("]}");
            }

            writer.Raw("]}");
        }).ConfigureAwait(false);
    }

    private static TimeSpan ParseStep(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.FromHours(1);
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= 366L * 86_400)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.FromSeconds(1))
        {
            return span;
        }

        throw ProfileRequestException.BadRequest($"malformed step {"\"" + text + "\""}: give seconds (3600) or a time span (01:00:00), at least one second");
    }
}
