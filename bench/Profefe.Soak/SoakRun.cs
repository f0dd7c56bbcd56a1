using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Profefe.LoadDriver;

namespace Profefe.Soak;

/// <summary>
/// Starts the collector in its cgroup, then runs the well-behaved clients and a health probe for the whole soak while
/// <see cref="Attacks"/> run one after another, and at the end checks every acknowledged profile.
/// </summary>
internal static class SoakRun
{
    public const string GoodService = "good";

    public static async Task<int> RunAsync(SoakOptions options)
    {
        var dll = CollectorLocator.Find(options.CollectorDll);
        var root = Directory.CreateTempSubdirectory("profefe-soak-").FullName;
        using var cgroup = MemoryCgroup.Create(options.MemoryLimitBytes);
        Console.WriteLine($"memory limit {options.MemoryLimitBytes >> 20} MiB through the {cgroup.Describe}");
        Console.WriteLine($"load at start: {File.ReadAllText("/proc/loadavg").Trim()}");
        var exit = 1;
        try
        {
            var settings = new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" };
            await using var collector = await CollectorProcess.StartAsync(
                dll, Path.Combine(root, "data"), Path.Combine(root, "collector.log"), CancellationToken.None, settings, cgroup.Directory);
            var inCgroup = File.ReadAllText($"/proc/{collector.Id.ToString(CultureInfo.InvariantCulture)}/cgroup").Contains(Path.GetFileName(cgroup.Directory), StringComparison.Ordinal);
            Console.WriteLine($"collector pid {collector.Id} at {collector.Url} ({(inCgroup ? "in" : "NOT in")} the cgroup), data in {root}");

            using var goodHttp = NewClient(collector.Url, tenant: null);
            using var attackHttp = NewClient(collector.Url, tenant: "attacker");
            var corpus = TestFiles.Good();
            var stored = new List<byte[]>();
            foreach (var file in corpus)
            {
                var (status, id) = await GoodClients.PushAsync(goodHttp, file, CancellationToken.None);
                stored.Add(status == 200 ? await goodHttp.GetByteArrayAsync("api/0/profiles/" + id) : throw new InvalidOperationException($"reference push answered {status}"));
            }

            using var stop = new CancellationTokenSource();
            var health = new RequestTally();
            var healthTask = ProbeHealthAsync(collector.Url, health, stop.Token);
            var good = new GoodClients(goodHttp, corpus);
            var goodTask = good.RunAsync(stop.Token);

            var attacks = Attacks.All(collector.Url);
            var share = options.Duration / attacks.Count;
            var results = new List<(string Name, RequestTally Tally, string Note)>();
            foreach (var (name, run) in attacks)
            {
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} attack: {name} for {share.TotalSeconds:0} s (load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
                var tally = new RequestTally();
                var note = await run(attackHttp, tally, share);
                Console.WriteLine($"    answers: {tally.Statuses()}{(note.Length > 0 ? "; " + note : "")}; collector RSS {collector.ResidentBytes() >> 20} MiB, cgroup {cgroup.CurrentBytes() >> 20} MiB");
                results.Add((name, tally, note));
            }

            await stop.CancelAsync();
            await Task.WhenAll(healthTask, goodTask);
            Console.WriteLine($"load at end: {File.ReadAllText("/proc/loadavg").Trim()}");

            var (intact, missing, different) = await VerifyAsync(goodHttp, good.Acknowledged, stored);
            var peakRss = collector.PeakResidentBytes();
            var report = new SoakReport(health, good, results, intact, missing, different, cgroup.PeakBytes(), peakRss, cgroup.OomKills(), inCgroup);
            report.Print(options);
            exit = report.Passed ? 0 : 1;
        }
        finally
        {
            if (exit == 0)
            {
                Directory.Delete(root, recursive: true);
            }
            else
            {
                Console.WriteLine($"kept {root} (collector.log, data) for a look; delete it when done");
            }
        }

        return exit;
    }

    public static HttpClient NewClient(Uri url, string? tenant)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(10) };
        var client = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        if (tenant is not null)
        {
            client.DefaultRequestHeaders.Add("X-Scope-OrgID", tenant);
        }

        return client;
    }

    /// <summary>/health every 250 ms on a connection of its own, each answer due within 5 s.</summary>
    private static async Task ProbeHealthAsync(Uri url, RequestTally tally, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
        while (!stop.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            int status;
            try
            {
                using var response = await http.GetAsync("health", CancellationToken.None);
                status = (int)response.StatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = 0;
            }

            tally.Record(status, clock.Elapsed);
            try
            {
                await Task.Delay(250, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private static async Task<(int Intact, int Missing, int Different)> VerifyAsync(
        HttpClient http, ConcurrentBag<(string Id, int File)> acknowledged, List<byte[]> stored)
    {
        int intact = 0, missing = 0, different = 0;
        foreach (var (id, file) in acknowledged)
        {
            using var response = await http.GetAsync("api/0/profiles/" + id);
            if (!response.IsSuccessStatusCode)
            {
                missing++;
                continue;
            }

            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (CryptographicOperations.FixedTimeEquals(bytes, stored[file]))
            {
                intact++;
            }
            else
            {
                different++;
            }
        }

        return (intact, missing, different);
    }

    public static string IdOf(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("body").GetProperty("id").GetString()!;
    }

    public static ByteArrayContent Binary(byte[] data, string type = "application/octet-stream")
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return content;
    }
}
