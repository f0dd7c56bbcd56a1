using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Profefe.Pprof;

namespace Profefe.FleetWeek;

/// <summary>
/// The timed reads: merges (<c>GET /api/0/profiles/merge</c>) and time series (<c>GET /api/0/timeseries</c>) over
/// minutes of the plan, each answer checked against what was pushed in that range.
/// </summary>
internal sealed class FleetQueries
{
    private const string WireTimeLayout = "yyyy-MM-dd'T'HH:mm:ss";

    private readonly HttpClient _http;
    private readonly string _service;
    private readonly FleetPlan _plan;

    public FleetQueries(HttpClient http, string service, FleetPlan plan)
    {
        _http = http;
        _service = service;
        _plan = plan;
    }

    /// <summary>
    /// Waits until a time series over the whole plan answers 200 with every pushed profile counted: the engine has
    /// taken everything in (the endpoint answers 503 while it is still catching up).
    /// </summary>
    /// <exception cref="InvalidOperationException">not within <paramref name="timeout"/>; the last answer is named.</exception>
    public async Task<TimeSpan> WaitCaughtUpAsync(TimeSpan timeout, Action<string> progress)
    {
        var path = SeriesPath(0, _plan.Minutes, _plan.Minutes * 60, null);
        var waited = Stopwatch.StartNew();
        var last = "";
        var lastPrinted = TimeSpan.Zero;
        while (waited.Elapsed < timeout)
        {
            var (status, body, _) = await GetAsync(path).ConfigureAwait(false);
            if (status == HttpStatusCode.OK)
            {
                var counted = SeriesCounts(body).Values.Sum();
                if (counted == _plan.Count)
                {
                    return waited.Elapsed;
                }

                last = $"200 with {counted:N0} of {_plan.Count:N0} profiles counted";
            }
            else
            {
                last = $"{(int)status}: {Text(body)}";
            }

            if (waited.Elapsed - lastPrinted >= TimeSpan.FromSeconds(15))
            {
                lastPrinted = waited.Elapsed;
                progress($"  still catching up after {waited.Elapsed.TotalSeconds:0} s: {last}");
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"the engine had not taken in all {_plan.Count:N0} profiles after {timeout.TotalSeconds:0} s; last answer to GET /{path}: {last}");
    }

    /// <summary>A merge of minutes [first, first + count), of one pod or all, checked against the pushed totals.</summary>
    public Task<TimedQuery> TimeMergeAsync(string name, int firstMinute, int minutes, int? pod, int runs)
    {
        var (profiles, totals) = _plan.Expected(firstMinute, minutes, pod);
        var query = new StringBuilder("api/0/profiles/merge?").Append(RangeQuery(firstMinute, minutes));
        if (pod is { } p)
        {
            query.Append("&labels=").Append(Uri.EscapeDataString("pod=" + FleetPlan.PodName(p)));
        }

        return TimeAsync(name, query.ToString(), profiles, body => CheckMerge(body, totals), runs);
    }

    /// <summary>A time series over minutes [first, first + count) grouped by pod, checked per pod against the pushed totals.</summary>
    public Task<TimedQuery> TimeSeriesAsync(string name, int firstMinute, int minutes, int stepSeconds, int runs)
    {
        var (profiles, _) = _plan.Expected(firstMinute, minutes, null);
        return TimeAsync(name, SeriesPath(firstMinute, minutes, stepSeconds, "pod"), profiles, body => CheckSeries(body, firstMinute, minutes), runs);
    }

    /// <summary>
    /// Pyroscope's SelectMergeStacktraces (Connect, JSON) over minutes [first, first + count) of all pods, as Grafana
    /// asks for a flame graph; the graph's total is checked against the pushed CPU time.
    /// </summary>
    public Task<TimedQuery> TimePyroscopeMergeAsync(string name, int firstMinute, int minutes, int runs)
    {
        var (profiles, totals) = _plan.Expected(firstMinute, minutes, null);
        var expected = totals[CpuIndex()];
        var body = PyroscopeRequest(firstMinute, minutes, "\"maxNodes\":\"16384\"");
        return TimeAsync(name, "querier.v1.QuerierService/SelectMergeStacktraces", profiles, reply =>
        {
            using var document = JsonDocument.Parse(reply);
            var total = long.Parse(document.RootElement.GetProperty("flamegraph").GetProperty("total").GetString()!, CultureInfo.InvariantCulture);
            return total == expected ? null : $"flame graph total {total:N0}, pushed {expected:N0}";
        }, runs, body);
    }

    /// <summary>Pyroscope's SelectSeries (Connect, JSON) grouped by pod, checked per pod against the pushed CPU time.</summary>
    public Task<TimedQuery> TimePyroscopeSeriesAsync(string name, int firstMinute, int minutes, int stepSeconds, int runs)
    {
        var (profiles, _) = _plan.Expected(firstMinute, minutes, null);
        var cpu = CpuIndex();
        var body = PyroscopeRequest(firstMinute, minutes, $"\"step\":{stepSeconds.ToString(CultureInfo.InvariantCulture)},\"groupBy\":[\"pod\"]");
        return TimeAsync(name, "querier.v1.QuerierService/SelectSeries", profiles, reply =>
        {
            using var document = JsonDocument.Parse(reply);
            var problems = new List<string>();
            var series = document.RootElement.GetProperty("series");
            foreach (var one in series.EnumerateArray())
            {
                var pod = one.GetProperty("labels")[0].GetProperty("value").GetString() ?? "";
                var sum = one.GetProperty("points").EnumerateArray().Sum(static p => p.GetProperty("value").GetDouble());
                var expected = _plan.Expected(firstMinute, minutes, int.Parse(pod.AsSpan(1), CultureInfo.InvariantCulture)).Totals[cpu];
                if (sum != expected)
                {
                    problems.Add($"{pod}: {sum:N0}, pushed {expected:N0}");
                }
            }

            if (series.GetArrayLength() != _plan.Pods)
            {
                problems.Add($"{series.GetArrayLength()} series for {_plan.Pods} pods");
            }

            return problems.Count == 0 ? null : string.Join("; ", problems);
        }, runs, body);
    }

    private int CpuIndex() => _plan.Corpus.SampleTypes.ToList().FindIndex(static t => t.StartsWith("cpu", StringComparison.Ordinal));

    // A Pyroscope query of the CPU profile type over the same whole minutes as the profefe queries (end inclusive).
    private string PyroscopeRequest(int firstMinute, int minutes, string more)
    {
        static long Ms(DateTime time) => (time - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;
        var selector = JsonSerializer.Serialize($"{{service_name=\"{_service}\"}}");
        return $"{{\"profileTypeID\":\"process_cpu:cpu:nanoseconds:cpu:nanoseconds\",\"labelSelector\":{selector},"
            + $"\"start\":\"{Ms(FleetPlan.TimeOf(firstMinute))}\",\"end\":\"{Ms(FleetPlan.TimeOf(firstMinute + minutes).AddSeconds(-1))}\",{more}}}";
    }

    private async Task<TimedQuery> TimeAsync(string name, string path, int profiles, Func<byte[], string?> check, int runs, string? postJson = null)
    {
        var timings = new double[runs + 1];
        long bytes = 0;
        var problems = new List<string>();
        for (var run = 0; run <= runs; run++)
        {
            var (status, body, milliseconds) = await GetAsync(path, postJson).ConfigureAwait(false);
            timings[run] = milliseconds;
            bytes = body.Length;
            string? problem;
            try
            {
                problem = status == HttpStatusCode.OK ? check(body) : $"answered {(int)status}: {Text(body)}";
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                problem = $"unreadable answer ({e.Message}): {Text(body)}";
            }

            if (problem is not null)
            {
                problems.Add($"run {run}: {problem}");
            }
        }

        var warm = timings[1..];
        Array.Sort(warm);
        var middle = warm.Length / 2;
        var median = warm.Length % 2 == 1 ? warm[middle] : (warm[middle - 1] + warm[middle]) / 2;
        return new TimedQuery(name, path, profiles, timings[0], median, warm[0], warm[^1], runs, bytes, problems);
    }

    private string? CheckMerge(byte[] body, long[] expected)
    {
        Profile merged;
        try
        {
            merged = ProfileDecoder.Decode(body);
        }
        catch (ProfileFormatException e)
        {
            return $"the merge is not a profile: {e.Message}";
        }

        var types = merged.SampleTypes.ConvertAll(static t => t.ToString());
        if (!types.SequenceEqual(_plan.Corpus.SampleTypes))
        {
            return $"sample types {string.Join(",", types)}, pushed {string.Join(",", _plan.Corpus.SampleTypes)}";
        }

        var totals = FleetCorpus.Totals(merged);
        return totals.SequenceEqual(expected) ? null : $"totals {Join(totals)}, pushed {Join(expected)} ({string.Join(",", types)})";
    }

    private string? CheckSeries(byte[] body, int firstMinute, int minutes)
    {
        using var document = JsonDocument.Parse(body);
        var reply = document.RootElement.GetProperty("body");
        var types = reply.GetProperty("sample_types").EnumerateArray().Select(static t => t.GetString()).ToList();
        if (!types.SequenceEqual(_plan.Corpus.SampleTypes))
        {
            return $"sample types {string.Join(",", types)}, pushed {string.Join(",", _plan.Corpus.SampleTypes)}";
        }

        var problems = new List<string>();
        var groups = 0;
        foreach (var group in reply.GetProperty("series").EnumerateArray())
        {
            groups++;
            var name = group.GetProperty("group").GetString() ?? "";
            var pod = name.StartsWith('p') && int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p < _plan.Pods ? p : -1;
            if (pod < 0)
            {
                problems.Add($"unknown group \"{name}\"");
                continue;
            }

            var (profiles, expected) = _plan.Expected(firstMinute, minutes, pod);
            var counted = group.GetProperty("counts").EnumerateArray().Sum(static c => c.GetInt64());
            // "values" holds one array per sample type, of one total per step.
            var values = group.GetProperty("values");
            if (values.GetArrayLength() != expected.Length)
            {
                problems.Add($"{name}: {values.GetArrayLength()} arrays of values for {expected.Length} sample types");
                continue;
            }

            var totals = values.EnumerateArray().Select(static type => type.EnumerateArray().Sum(static v => v.GetInt64())).ToArray();

            if (counted != profiles || !totals.SequenceEqual(expected))
            {
                problems.Add($"{name}: {counted:N0} profiles with totals {Join(totals)}, pushed {profiles:N0} with {Join(expected)}");
            }
        }

        if (groups != _plan.Pods)
        {
            problems.Add($"{groups} groups for {_plan.Pods} pods");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private async Task<(HttpStatusCode Status, byte[] Body, double Milliseconds)> GetAsync(string path, string? postJson = null)
    {
        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(postJson is null ? HttpMethod.Get : HttpMethod.Post, path);
        if (postJson is not null)
        {
            request.Content = new StringContent(postJson, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        return (response.StatusCode, body, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private string SeriesPath(int firstMinute, int minutes, int stepSeconds, string? groupBy)
    {
        var query = new StringBuilder("api/0/timeseries?").Append(RangeQuery(firstMinute, minutes))
            .Append("&step=").Append(stepSeconds.ToString(CultureInfo.InvariantCulture));
        if (groupBy is not null)
        {
            query.Append("&group_by=").Append(Uri.EscapeDataString(groupBy));
        }

        return query.ToString();
    }

    // "to" is inclusive: the range ends a second before the next minute's profiles, so it covers whole hours only.
    private string RangeQuery(int firstMinute, int minutes) =>
        new StringBuilder("service=").Append(Uri.EscapeDataString(_service))
            .Append("&type=cpu")
            .Append("&from=").Append(Uri.EscapeDataString(Wire(FleetPlan.TimeOf(firstMinute))))
            .Append("&to=").Append(Uri.EscapeDataString(Wire(FleetPlan.TimeOf(firstMinute + minutes).AddSeconds(-1))))
            .ToString();

    private static Dictionary<string, long> SeriesCounts(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var group in document.RootElement.GetProperty("body").GetProperty("series").EnumerateArray())
        {
            counts[group.GetProperty("group").GetString() ?? ""] = group.GetProperty("counts").EnumerateArray().Sum(static c => c.GetInt64());
        }

        return counts;
    }

    private static string Wire(DateTime time) => time.ToString(WireTimeLayout, CultureInfo.InvariantCulture);

    private static string Join(long[] values) => string.Join(" / ", values.Select(static v => v.ToString("N0", CultureInfo.InvariantCulture)));

    private static string Text(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body).Trim();
        return text.Length > 300 ? text[..300] + "…" : text;
    }
}

/// <summary>One query's timings: the first (cold) run apart from the median, min and max of the others.</summary>
internal sealed record TimedQuery(
    string Name, string Path, int Profiles, double ColdMs, double MedianMs, double MinMs, double MaxMs, int Runs, long ResponseBytes, IReadOnlyList<string> Problems);
