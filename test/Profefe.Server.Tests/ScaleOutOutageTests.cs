using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Profefe.Testing;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests;

/// <summary>
/// A storage dependency dies under load and comes back: while it is down pushes and reads answer 503 naming it
/// (never 200 without data, never 500, never a hang) and /health is not ready; after it returns the same collector
/// process takes pushes again, and every profile it acknowledged is there, byte-identical.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Chaos)]
[Collection(StoragePostgresTests.Name)]
public sealed class ScaleOutOutageTests(PostgresServerFixture fixture, CephRgwServerFixture ceph) : IClassFixture<CephRgwServerFixture>
{
    private const int Writers = 4;
    private const string Service = "outage";

    // Bounds on the outage: how long to wait for each expected state before failing.
    private static readonly TimeSpan StateTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("postgres", "postgres")]
    [InlineData("s3+postgres", "postgres")]
    [InlineData("s3+postgres", "s3")]
    public async Task DependencyKilledUnderLoad_Answers503NamingIt_ThenRecoversWithoutRestart(string storageType, string victim)
    {
        // PostgreSQL is killed on a server of the test's own; RGW on the class's cluster (it comes back with its data).
        var postgres = victim == "postgres" ? await StartOwnPostgresAsync() : fixture.Require();
        try
        {
            await using var schema = new PostgresTestSchema(postgres);
            var settings = ScaleOutStores.WithShortBounds(await ScaleOutStores.ForAsync(storageType, schema, ceph.Require));
            if (victim == "postgres")
            {
                await RunOutageAsync(settings, victim, postgres.KillAsync, postgres.RestartAsync);
            }
            else
            {
                var rgw = ceph.Require();
                await RunOutageAsync(settings, victim, rgw.KillRgwAsync, rgw.RestartRgwAsync);
            }
        }
        finally
        {
            if (victim == "postgres")
            {
                await postgres.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A dependency that hangs (SIGSTOP: connections are accepted, nothing answers) rather than refuses: the
    /// configured timeouts turn every request into a 503 instead of a hang, and SIGCONT brings it all back.
    /// </summary>
    [Theory]
    [InlineData("postgres", "postgres")]
    [InlineData("s3+postgres", "s3")]
    public async Task DependencyFrozenUnderLoad_Answers503WithinTheTimeouts_ThenRecovers(string storageType, string victim)
    {
        var postgres = victim == "postgres" ? await StartOwnPostgresAsync() : fixture.Require();
        try
        {
            await using var schema = new PostgresTestSchema(postgres);
            var settings = ScaleOutStores.WithShortBounds(await ScaleOutStores.ForAsync(storageType, schema, ceph.Require));
            var frozen = new FrozenProcesses(victim == "postgres" ? PostgresProcesses(postgres) : RgwProcess(ceph.Require()));
            try
            {
                // A timed-out statement or request takes seconds to answer, so fewer 503s arrive per second.
                await RunOutageAsync(settings, victim, frozen.FreezeAsync, frozen.ThawAsync, unavailableWhileDown: 8);
            }
            finally
            {
                await frozen.ThawAsync();
            }
        }
        finally
        {
            if (victim == "postgres")
            {
                await postgres.DisposeAsync();
            }
        }
    }

    /// <summary>The postmaster and every backend it forked.</summary>
    private static Func<IReadOnlyList<int>> PostgresProcesses(PostgresServer server) => () =>
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(server.DataDirectory, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        List<int> pids = [postmaster];
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ParentOf(pid) == postmaster)
            {
                pids.Add(pid);
            }
        }

        return pids;
    };

    private static Func<IReadOnlyList<int>> RgwProcess(CephRgwServer server) => () =>
    {
        // ceph-rgw.sh records "rgw <pid> radosgw".
        var line = File.ReadLines(Path.Combine(server.StateDirectory, "pids")).First(static l => l.StartsWith("rgw ", StringComparison.Ordinal));
        return [int.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)];
    };

    private static int ParentOf(int pid)
    {
        try
        {
            // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so parse after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    private static async Task<PostgresServer> StartOwnPostgresAsync()
    {
        try
        {
            return await PostgresServer.StartAsync();
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            ExternalDependency.Unavailable($"could not start PostgreSQL: {exception.Message}");
            throw;
        }
    }

    /// <summary>
    /// Writers push to one collector process; <paramref name="kill"/> takes <paramref name="dependency"/> down once
    /// enough pushes were acknowledged, <paramref name="restart"/> brings it back once the outage was observed.
    /// </summary>
    private static async Task RunOutageAsync(Dictionary<string, string?> settings, string dependency, Func<Task> kill, Func<Task> restart, int unavailableWhileDown = 20)
    {
        // Downloads must reach the object store here: a collector keeps the segments it just wrote in memory and
        // would serve them (rightly, with their bytes) while the store is down, which is not what this test checks.
        settings = new Dictionary<string, string?>(settings) { ["Storage:Segments:CacheBytes"] = "0" };
        var workingDirectory = Directory.CreateTempSubdirectory("profefe-outage-").FullName;
        try
        {
            using var collector = await ServeProcess.StartListeningAsync(settings, workingDirectory, Token);
            await WaitForAsync(() => HealthAsync(collector.Client), static h => h.Status == HttpStatusCode.OK, "health ready before the outage");

            var acknowledged = new ConcurrentDictionary<string, Upload>(StringComparer.Ordinal);
            var unavailable = 0;
            var unexpected = new ConcurrentQueue<string>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
            using var client = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            var writers = ScaleOutTraffic.StartWriters(Writers, async (writer, i) =>
            {
                var upload = ScaleOutTraffic.Uploads[(writer + i) % ScaleOutTraffic.Uploads.Length];
                try
                {
                    using var push = await ScaleOutTraffic.PushAsync(client, Service, upload, $"writer={writer},seq={i}", stop.Token);
                    if (push.StatusCode == HttpStatusCode.OK)
                    {
                        ScaleOutTraffic.Acknowledge(acknowledged, await ScaleOutTraffic.IdOfAsync(push, stop.Token), upload);
                        return;
                    }

                    var body = await push.Content.ReadAsStringAsync(stop.Token);
                    if (push.StatusCode == HttpStatusCode.ServiceUnavailable && NamesDependency(body, "service unavailable: ", dependency))
                    {
                        Interlocked.Increment(ref unavailable);
                        await Task.Delay(20, stop.Token);
                        return;
                    }

                    unexpected.Enqueue($"{(int)push.StatusCode} {body}");
                }
                catch (TaskCanceledException) when (!stop.IsCancellationRequested)
                {
                    unexpected.Enqueue("a push got no answer within 30 s");
                }
            }, stop.Token);

            try
            {
                await WaitForAsync(() => Task.FromResult(acknowledged.Count), static n => n >= 40, "pushes acknowledged before the outage");
                await kill();
                var unavailableAtKill = Volatile.Read(ref unavailable);

                await WaitForAsync(() => Task.FromResult(Volatile.Read(ref unavailable)), n => n >= unavailableAtKill + unavailableWhileDown || !unexpected.IsEmpty, "503s while down");
                Assert.True(unexpected.IsEmpty, $"while down: {string.Join(" | ", unexpected.Take(5))}");
                var health = await WaitForAsync(() => HealthAsync(collector.Client), static h => h.Status != HttpStatusCode.OK, "health not ready while down");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.Status);
                Assert.True(NamesDependency(health.Body, "not ready: ", dependency), health.Body);
                // Downloads and merges need every dependency. Finds and listings read only the index: with the
                // object storage down they still answer from PostgreSQL.
                var ids = acknowledged.Where(static p => p.Value.Type == "cpu").Select(static p => p.Key).Take(3).ToList();
                List<string> reads = ["api/0/profiles/" + ids[0], "api/0/profiles/" + string.Join('+', ids)];
                if (dependency == "postgres")
                {
                    reads.Add("api/0/services");
                    reads.Add($"api/0/profiles?service={Service}&type=cpu&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00");
                    reads.Add($"api/0/profiles/merge?service={Service}&type=cpu&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00");
                }

                foreach (var read in reads)
                {
                    using var response = await client.GetAsync(read, Token);
                    var body = await response.Content.ReadAsStringAsync(Token);
                    Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains(dependency, StringComparison.Ordinal), $"GET {read} while down: {(int)response.StatusCode} {body}");
                }

                await restart();
                await WaitForAsync(() => HealthAsync(collector.Client), static h => h.Status == HttpStatusCode.OK, "health ready after the restart");
                var acknowledgedAtRecovery = acknowledged.Count;
                await WaitForAsync(() => Task.FromResult(acknowledged.Count), n => n >= acknowledgedAtRecovery + 40, "pushes acknowledged after the restart");
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(writers);
            }

            Assert.True(unexpected.IsEmpty, $"{unexpected.Count} answers were neither 200 nor a 503 naming {dependency}: {string.Join(" | ", unexpected.Take(5))}\n{collector.Output}");
            await ScaleOutTraffic.VerifyAsync(collector.Client, Service, acknowledged, Token);
        }
        finally
        {
            Directory.Delete(workingDirectory, recursive: true);
        }
    }

    private static bool NamesDependency(string body, string prefix, string dependency)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("error", out var error)
            && error.GetString() is { } message
            && message.StartsWith($"{prefix}{dependency} storage: ", StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, string Body)> HealthAsync(HttpClient client)
    {
        using var response = await client.GetAsync("health", Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Token));
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + StateTimeout;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no {what} within {StateTimeout.TotalSeconds} s (last: {value})");
            await Task.Delay(100, Token);
        }
    }
}

/// <summary>Stops processes with SIGSTOP (a hung server: its sockets accept, nothing answers) and continues them.</summary>
internal sealed class FrozenProcesses(Func<IReadOnlyList<int>> find)
{
    private IReadOnlyList<int> _frozen = [];

    public async Task FreezeAsync()
    {
        _frozen = find();
        await SignalAsync("-STOP", _frozen);
    }

    public async Task ThawAsync()
    {
        var frozen = Interlocked.Exchange(ref _frozen, []);
        await SignalAsync("-CONT", frozen);
    }

    private static async Task SignalAsync(string signal, IReadOnlyList<int> pids)
    {
        if (pids.Count == 0)
        {
            return;
        }

        var (exit, output) = await ExternalProcess.RunAsync("kill", [signal, .. pids.Select(static p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))], TimeSpan.FromSeconds(10));
        Assert.True(exit == 0, $"kill {signal} failed: {output}");
    }
}
