using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Server.Access;
using Profefe.Server.Pyroscope.Connect;
using Profefe.Server.Pyroscope.Protos.Querier;
using Profefe.Server.Pyroscope.Protos.Types;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>
/// Pyroscope's query API, <c>/querier.v1.QuerierService/&lt;Method&gt;</c> over Connect (binary and JSON), answered
/// by <see cref="PyroscopeQueryService"/>. Times are Unix milliseconds; a zero start or end leaves that side open.
/// </summary>
internal static class QuerierEndpoints
{
    private const string Prefix = "/querier.v1.QuerierService/";

    // Far more than a person or Grafana asks for; each more costs a pass over every matching profile.
    private const int MaxMatchers = 100;
    private const int MaxGroupBy = 100;

    public static void MapQuerierEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapUnary(Prefix + "ProfileTypes", ProfileTypesRequest.Parser, ProfileTypesAsync);
        endpoints.MapUnary(Prefix + "LabelNames", LabelNamesRequest.Parser, LabelNamesAsync);
        endpoints.MapUnary(Prefix + "LabelValues", LabelValuesRequest.Parser, LabelValuesAsync);
        endpoints.MapUnary(Prefix + "Series", SeriesRequest.Parser, SeriesAsync);
        endpoints.MapUnary(Prefix + "SelectMergeStacktraces", SelectMergeStacktracesRequest.Parser, SelectMergeStacktracesAsync);
        endpoints.MapUnary(Prefix + "SelectMergeProfile", SelectMergeProfileRequest.Parser, SelectMergeProfileAsync);
        endpoints.MapUnary(Prefix + "SelectSeries", SelectSeriesRequest.Parser, SelectSeriesAsync);
        endpoints.MapUnary(Prefix + "Diff", DiffRequest.Parser, DiffAsync);
        endpoints.MapUnary(Prefix + "GetProfileStats", GetProfileStatsRequest.Parser, GetProfileStatsAsync);
    }

    private static async Task<ConnectReply> ProfileTypesAsync(ProfileTypesRequest request, HttpContext context)
    {
        var (from, to) = Range(request.Start, request.End);
        var types = new SortedDictionary<string, ProfileTypeId>(StringComparer.Ordinal);
        foreach (var series in await QueryOf(context).FindSeriesAsync(context.GetTenant(), [LabelSelector.All], from, to, context.RequestAborted).ConfigureAwait(false))
        {
            types.TryAdd(series.Type.Id, series.Type);
        }

        var response = new ProfileTypesResponse();
        foreach (var type in types.Values)
        {
            response.ProfileTypes.Add(type.ToMessage());
        }

        return new ConnectReply(response);
    }

    private static async Task<ConnectReply> LabelNamesAsync(LabelNamesRequest request, HttpContext context)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var series in await FindAsync(context, request.Matchers, request.Start, request.End).ConfigureAwait(false))
        {
            foreach (var label in series.Labels)
            {
                names.Add(label.Key);
            }
        }

        var response = new LabelNamesResponse();
        response.Names.AddRange(names);
        return new ConnectReply(response);
    }

    private static async Task<ConnectReply> LabelValuesAsync(LabelValuesRequest request, HttpContext context)
    {
        if (request.Name.Length == 0)
        {
            throw ConnectException.InvalidArgument("missing label \"name\"");
        }

        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var series in await FindAsync(context, request.Matchers, request.Start, request.End).ConfigureAwait(false))
        {
            foreach (var label in series.Labels)
            {
                if (label.Key == request.Name)
                {
                    values.Add(label.Value);
                }
            }
        }

        var response = new LabelValuesResponse();
        response.Names.AddRange(values);
        return new ConnectReply(response);
    }

    private static async Task<ConnectReply> SeriesAsync(SeriesRequest request, HttpContext context)
    {
        var response = new SeriesResponse();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        // A set, not the request's list: a request naming millions of labels must not cost millions per label.
        var wanted = request.LabelNames.Count == 0 ? null : new HashSet<string>(request.LabelNames, StringComparer.Ordinal);
        foreach (var series in await FindAsync(context, request.Matchers, request.Start, request.End).ConfigureAwait(false))
        {
            var labels = new Labels();
            foreach (var label in series.Labels)
            {
                if (wanted is null || wanted.Contains(label.Key))
                {
                    labels.Labels_.Add(new LabelPair { Name = label.Key, Value = label.Value });
                }
            }

            if (seen.Add(labels.ToString()))
            {
                response.LabelsSet.Add(labels);
            }
        }

        return new ConnectReply(response);
    }

    private static async Task<ConnectReply> SelectMergeStacktracesAsync(SelectMergeStacktracesRequest request, HttpContext context)
    {
        var maxNodes = MaxNodes(request.HasMaxNodes ? request.MaxNodes : 0);
        var profile = await MergeAsync(context, request).ConfigureAwait(false);
        var response = new SelectMergeStacktracesResponse();
        switch (request.Format)
        {
            case ProfileFormat.Unspecified or ProfileFormat.Flamegraph:
                response.Flamegraph = FlameGraphExport.ToMessage(Layout(profile, maxNodes));
                break;
            case ProfileFormat.Tree:
                response.Tree = FlameGraphExport.ToTree(Layout(profile, maxNodes));
                break;
            case ProfileFormat.Pprof:
                response.Pprof = new PprofProfile { Profile = ToMessage(profile) };
                break;
            // A value the enum does not name is a bad request; a named format we do not produce (DOT) is unimplemented.
            default:
                throw Enum.IsDefined(request.Format)
                    ? new ConnectException(ConnectCode.Unimplemented, $"profile format {request.Format} is not supported; use FLAMEGRAPH, TREE or PPROF")
                    : ConnectException.InvalidArgument($"unknown profile format {(int)request.Format}; use FLAMEGRAPH, TREE or PPROF");
        }

        return new ConnectReply(response);
    }

    private static async Task<ConnectReply> SelectMergeProfileAsync(SelectMergeProfileRequest request, HttpContext context)
    {
        var merge = new SelectMergeStacktracesRequest
        {
            ProfileTypeID = request.ProfileTypeID,
            LabelSelector = request.LabelSelector,
            Start = request.Start,
            End = request.End,
            StackTraceSelector = request.StackTraceSelector,
        };
        var profile = await MergeAsync(context, merge).ConfigureAwait(false);
        return profile is null
            ? new ConnectReply(new Protos.Pprof.Profile())
            : new ConnectReply(ProfileEncoder.EncodeToArray(profile, compress: false), Protos.Pprof.Profile.Parser);
    }

    private static async Task<ConnectReply> SelectSeriesAsync(SelectSeriesRequest request, HttpContext context)
    {
        if (request.StackTraceSelector is { CallSite.Count: > 0 } or { GoPgo: not null })
        {
            throw new ConnectException(ConnectCode.Unimplemented, "SelectSeries with a stack_trace_selector is not supported");
        }

        if (!(request.Step > 0) || double.IsInfinity(request.Step))
        {
            throw ConnectException.InvalidArgument($"bad step {request.Step}: want a positive number of seconds");
        }

        var type = ProfileTypeId.Parse(request.ProfileTypeID);
        var selector = LabelSelector.Parse(request.LabelSelector);
        var (from, to) = Range(request.Start, request.End);
        var groupBy = request.GroupBy.Distinct(StringComparer.Ordinal).ToList();
        if (groupBy.Count > MaxGroupBy)
        {
            throw ConnectException.InvalidArgument($"group_by names {groupBy.Count} labels; at most {MaxGroupBy}");
        }

        var stepMs = Math.Max(1, (long)Math.Round(request.Step * 1000));
        var average = request.HasAggregation && request.Aggregation == TimeSeriesAggregationType.Average;
        var response = new SelectSeriesResponse();
        var totals = await QueryOf(context).TotalsByStepAsync(
            context.GetTenant(), type, selector, from, to, request.Start, stepMs, groupBy, average, request.HasLimit ? request.Limit : 0, context.RequestAborted).ConfigureAwait(false);
        foreach (var (labels, points) in totals)
        {
            var series = new Protos.Types.Series();
            foreach (var label in labels)
            {
                series.Labels.Add(new LabelPair { Name = label.Key, Value = label.Value });
            }

            foreach (var (timestamp, value) in points)
            {
                series.Points.Add(new Point { Timestamp = timestamp, Value = value });
            }

            response.Series.Add(series);
        }

        return new ConnectReply(response);
    }

    private static async Task<ConnectReply> DiffAsync(DiffRequest request, HttpContext context)
    {
        if (request.Left is null || request.Right is null)
        {
            throw ConnectException.InvalidArgument("a diff needs both \"left\" and \"right\"");
        }

        var left = await MergeAsync(context, request.Left).ConfigureAwait(false) ?? Empty();
        var right = await MergeAsync(context, request.Right).ConfigureAwait(false) ?? Empty();
        var maxNodes = MaxNodes(request.Left.HasMaxNodes ? request.Left.MaxNodes : 0);
        var graph = FlameGraphBuilder.BuildDiff(left, 0, right, 0, maxNodes);
        return new ConnectReply(new DiffResponse { Flamegraph = FlameGraphExport.ToDiffMessage(graph) });
    }

    private static async Task<ConnectReply> GetProfileStatsAsync(GetProfileStatsRequest request, HttpContext context)
    {
        var range = await QueryOf(context).TimeRangeAsync(context.GetTenant(), context.RequestAborted).ConfigureAwait(false);
        var response = new GetProfileStatsResponse { DataIngested = range is not null };
        if (range is { } r)
        {
            response.OldestProfileTime = UnixMilliseconds(r.Oldest);
            response.NewestProfileTime = UnixMilliseconds(r.Newest);
        }

        return new ConnectReply(response);
    }

    /// <summary>The merged profile of a selection, reduced to its sample type; null when nothing matches.</summary>
    internal static async Task<Profile?> MergeAsync(HttpContext context, SelectMergeStacktracesRequest request)
    {
        var type = ProfileTypeId.Parse(request.ProfileTypeID);
        var selector = LabelSelector.Parse(request.LabelSelector);
        var (from, to) = Range(request.Start, request.End);
        if (request.StackTraceSelector?.GoPgo is not null)
        {
            throw new ConnectException(ConnectCode.Unimplemented, "the go_pgo stack trace selector is not supported");
        }

        var callSite = request.StackTraceSelector?.CallSite.Select(static l => l.Name).ToList();
        return await QueryOf(context).MergeAsync(context.GetTenant(), type, selector, from, to, callSite, context.RequestAborted).ConfigureAwait(false);
    }

    internal static Core.Views.FlameGraph Layout(Profile? profile, int maxNodes) => FlameGraphBuilder.Build(profile ?? Empty(), 0, maxNodes);

    internal static int MaxNodes(long requested) => requested <= 0 ? Core.Views.FlameGraph.DefaultMaxNodes : (int)Math.Clamp(requested, 2, 1_000_000);

    internal static (DateTime From, DateTime To) Range(long startMs, long endMs)
    {
        var from = startMs <= 0 ? DateTime.MinValue : FromMilliseconds(startMs, "start");
        var to = endMs <= 0 ? DateTime.MaxValue : FromMilliseconds(endMs, "end");
        return from <= to ? (from, to) : throw ConnectException.InvalidArgument($"start ({startMs} ms) is after end ({endMs} ms)");
    }

    internal static long UnixMilliseconds(DateTime time) => (time - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;

    private static DateTime FromMilliseconds(long ms, string name) =>
        ms <= (DateTime.MaxValue - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond
            ? DateTime.UnixEpoch.AddMilliseconds(ms)
            : throw ConnectException.InvalidArgument($"{name} {ms} is not a Unix time in milliseconds");

    private static Profile Empty()
    {
        var profile = new Profile();
        profile.SampleTypes.Add(new SampleType("samples", "count"));
        return profile;
    }

    private static Protos.Pprof.Profile ToMessage(Profile? profile) =>
        profile is null ? new Protos.Pprof.Profile() : Protos.Pprof.Profile.Parser.ParseFrom(ProfileEncoder.EncodeToArray(profile, compress: false));

    private static async Task<IReadOnlyList<PyroscopeQueryService.Series>> FindAsync(HttpContext context, Google.Protobuf.Collections.RepeatedField<string> matchers, long start, long end)
    {
        if (matchers.Count > MaxMatchers)
        {
            throw ConnectException.InvalidArgument($"{matchers.Count} matchers; at most {MaxMatchers}");
        }

        var selectors = matchers.Select(LabelSelector.Parse).ToList();
        if (selectors.Count == 0)
        {
            selectors.Add(LabelSelector.All);
        }

        var (from, to) = Range(start, end);
        return await QueryOf(context).FindSeriesAsync(context.GetTenant(), selectors, from, to, context.RequestAborted).ConfigureAwait(false);
    }

    private static PyroscopeQueryService QueryOf(HttpContext context) => context.RequestServices.GetRequiredService<PyroscopeQueryService>();
}
