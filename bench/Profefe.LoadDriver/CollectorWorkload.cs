using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Profefe.Client;

namespace Profefe.LoadDriver;

/// <summary>Timed ingest, find and merge requests against one collector, for one service.</summary>
/// <remarks>
/// Profile number i is created at <see cref="BaseTime"/> + i seconds and labelled version=v(i / 100), so
/// a time range selects a known number of profiles and every version value matches exactly 100 of them.
/// </remarks>
internal sealed class CollectorWorkload : IDisposable
{
    public const int ProfilesPerVersion = 100;

    public static readonly DateTime BaseTime = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const string WireTimeLayout = "yyyy-MM-dd'T'HH:mm:ss";
    private const int MaxFailures = 100;

    private readonly HttpClient _http;
    private readonly ProfefeClient _client;
    private readonly byte[] _body;

    public CollectorWorkload(Uri collector, string service, byte[] body, int connections)
    {
        // No proxy lookup and no cookie container per request: the driver's CPU is taken from the collector's.
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false, UseCookies = false })
        {
            BaseAddress = collector,
            Timeout = TimeSpan.FromMinutes(10),
        };
        _client = new ProfefeClient(_http);
        Service = service;
        _body = body;
    }

    public string Service { get; }

    public static string VersionOf(int index) => "v" + (index / ProfilesPerVersion).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Pushes profiles first … first + count - 1 from <paramref name="clients"/> concurrent loops, or fewer
    /// (always a prefix of that range) when <paramref name="budget"/> runs out first.
    /// </summary>
    public async Task<IngestResult> IngestAsync(string service, int first, int count, int clients, CpuProbes cpu, TimeSpan? budget = null)
    {
        var latencies = new double[count];
        var next = -1;
        var pushed = 0;
        var deadline = budget ?? TimeSpan.MaxValue;
        var failures = 0;
        string? firstFailure = null;
        var driverCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var serverCpuBefore = cpu.Collector?.Invoke() ?? TimeSpan.Zero;
        var backendCpuBefore = cpu.ReadBackends();
        var wall = Stopwatch.StartNew();

        async Task PushLoopAsync(int client)
        {
            ProfileLabel[] labels = [new("host", "host-" + client.ToString(CultureInfo.InvariantCulture)), default];
            while (true)
            {
                // Indexes are claimed in order, so once one is refused for time, no later one is pushed.
                var i = Interlocked.Increment(ref next);
                if (i >= count || Volatile.Read(ref failures) > MaxFailures || wall.Elapsed > deadline)
                {
                    return;
                }

                Interlocked.Increment(ref pushed);
                var index = first + i;
                labels[1] = new ProfileLabel("version", VersionOf(index));
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await _client.PushProfileAsync(service, "cpu", labels, _body, BaseTime.AddSeconds(index)).ConfigureAwait(false);
                }
                catch (ProfefeApiException e)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, $"{(int)e.StatusCode}: {e.Message}", null);
                }

                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }

        var loops = new Task[clients];
        for (var c = 0; c < clients; c++)
        {
            var client = c;
            loops[c] = Task.Run(() => PushLoopAsync(client));
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        wall.Stop();
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} of {count} pushes failed, first: {firstFailure}");
        }

        if (pushed == 0)
        {
            throw new InvalidOperationException($"no push to {service} started within {deadline.TotalSeconds:0} s");
        }

        Array.Sort(latencies, 0, pushed);
        latencies = latencies[..pushed];
        return new IngestResult(
            pushed,
            wall.Elapsed,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.99),
            latencies[^1],
            (cpu.Collector?.Invoke() ?? TimeSpan.Zero) - serverCpuBefore,
            Process.GetCurrentProcess().TotalProcessorTime - driverCpuBefore,
            CpuProbes.Since(cpu.ReadBackends(), backendCpuBefore));
    }

    /// <summary>Times <c>GET /api/0/profiles</c> over profiles first … last, optionally filtered by version.</summary>
    public async Task<QueryResult> FindAsync(int first, int last, string? version, int runs)
    {
        var path = QueryPath("api/0/profiles", first, last, version);
        var timings = new double[runs];
        var returned = 0;
        long bytes = 0;
        for (var run = 0; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            var (status, body) = await GetAsync(path).ConfigureAwait(false);
            timings[run] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            returned = status == HttpStatusCode.NotFound ? 0 : CountFound(body);
            bytes = body.Length;
        }

        return QueryResult.Of(timings, returned, bytes, path);
    }

    /// <summary>Times <c>GET /api/0/profiles/merge</c> of the CPU profiles first … last.</summary>
    /// <returns>The first (cold) run apart from the median of the others.</returns>
    public async Task<(QueryResult First, QueryResult Warm)> MergeAsync(int first, int last, int runs)
    {
        var (_, found) = await GetAsync(QueryPath("api/0/profiles", first, last, null)).ConfigureAwait(false);
        var matched = CountFound(found);
        var path = QueryPath("api/0/profiles/merge", first, last, null);
        var timings = new double[runs + 1];
        long bytes = 0;
        for (var run = 0; run <= runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            var (status, body) = await GetAsync(path).ConfigureAwait(false);
            timings[run] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (status != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"merge of {matched} profiles answered {(int)status}: {Encoding.UTF8.GetString(body)}");
            }

            bytes = body.Length;
        }

        var cold = QueryResult.Of(timings[..1], matched, bytes, path);
        return (cold, runs == 0 ? cold : QueryResult.Of(timings[1..], matched, bytes, path));
    }

    public void Dispose() => _http.Dispose();

    private async Task<(HttpStatusCode Status, byte[] Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync(path, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        return response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound
            ? (response.StatusCode, body)
            : throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
    }

    private string QueryPath(string endpoint, int first, int last, string? version)
    {
        var query = new StringBuilder(endpoint)
            .Append("?service=").Append(Uri.EscapeDataString(Service))
            .Append("&type=cpu")
            .Append("&from=").Append(Uri.EscapeDataString(BaseTime.AddSeconds(first).ToString(WireTimeLayout, CultureInfo.InvariantCulture)))
            .Append("&to=").Append(Uri.EscapeDataString(BaseTime.AddSeconds(last).ToString(WireTimeLayout, CultureInfo.InvariantCulture)));
        if (version is not null)
        {
            query.Append("&labels=").Append(Uri.EscapeDataString("version=" + version));
        }

        return query.ToString();
    }

    private static int CountFound(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("body", out var found) && found.ValueKind == JsonValueKind.Array
            ? found.GetArrayLength()
            : 0;
    }

    private static double Percentile(double[] sorted, double quantile) =>
        sorted[Math.Max(0, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
}

/// <param name="BackendCpu">Each storage server's CPU in the same time (<c>--backend</c>), empty when not measured.</param>
internal sealed record IngestResult(
    int Requests, TimeSpan Wall, double P50Ms, double P99Ms, double MaxMs, TimeSpan ServerCpu, TimeSpan DriverCpu, IReadOnlyList<(string Name, TimeSpan Cpu)> BackendCpu)
{
    public double PerSecond => Requests / Wall.TotalSeconds;
}

/// <summary>How to read the CPU of the collector and of the storage servers it writes to; either may be missing.</summary>
internal sealed record CpuProbes(Func<TimeSpan>? Collector, IReadOnlyList<(string Name, Func<TimeSpan> Read)> Backends)
{
    public static readonly CpuProbes None = new(null, []);

    public (string Name, TimeSpan Cpu)[] ReadBackends()
    {
        var read = new (string, TimeSpan)[Backends.Count];
        for (var i = 0; i < read.Length; i++)
        {
            read[i] = (Backends[i].Name, Backends[i].Read());
        }

        return read;
    }

    public static (string Name, TimeSpan Cpu)[] Since((string Name, TimeSpan Cpu)[] now, (string Name, TimeSpan Cpu)[] before)
    {
        var used = new (string, TimeSpan)[now.Length];
        for (var i = 0; i < used.Length; i++)
        {
            used[i] = (now[i].Name, now[i].Cpu - before[i].Cpu);
        }

        return used;
    }
}

internal sealed record QueryResult(double MedianMs, double MinMs, double MaxMs, int Runs, int Profiles, long ResponseBytes, string Path)
{
    public static QueryResult Of(double[] timings, int profiles, long responseBytes, string path)
    {
        var sorted = (double[])timings.Clone();
        Array.Sort(sorted);
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new QueryResult(median, sorted[0], sorted[^1], sorted.Length, profiles, responseBytes, path);
    }
}
