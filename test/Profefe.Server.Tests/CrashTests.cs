using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests;

/// <summary>
/// Writers push profiles while the real <c>profefe serve</c> is killed with SIGKILL and restarted several
/// times: every profile that got a 200 is then found and downloads byte-identical, and nothing stored is torn.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Chaos)]
public sealed class CrashTests
{
    private const int Writers = 4;
    private const int Kills = 4;

    [Fact]
    public async Task Collector_KeepsEveryAcknowledgedProfile_WhenKilledWithSigkillDuringWrites()
    {
        var cancel = TestContext.Current.CancellationToken;
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-crash-").FullName;
        var port = FreePort.Next();
        var uploads = new[] { "collector_cpu_1.prof", "collector_cpu_2.prof", "collector_heap_1.prof" }
            .Select(f => TestData.Read("profefe/" + f)).ToArray();
        var acknowledged = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var attempts = 0;
        try
        {
            var serve = await ServeProcess.StartAsync(dataDirectory, port, cancel);
            try
            {
                using var stopWriters = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                var writers = Enumerable.Range(0, Writers)
                    .Select(w => Task.Run(() => WriteUntilStoppedAsync(serve.BaseAddress, w, uploads, acknowledged, () => Interlocked.Increment(ref attempts), stopWriters.Token), cancel))
                    .ToArray();
                for (var kill = 0; kill < Kills; kill++)
                {
                    // Let a burst of writes get in flight, then pull the plug in the middle of it.
                    var before = acknowledged.Count;
                    var deadline = DateTime.UtcNow.AddSeconds(20);
                    while (acknowledged.Count < before + 20 && DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(50, cancel);
                    }

                    serve.Kill();
                    serve.Dispose();
                    serve = await ServeProcess.StartAsync(dataDirectory, port, cancel);
                }

                await Task.Delay(500, cancel);
                await stopWriters.CancelAsync();
                await Task.WhenAll(writers);

                Assert.True(acknowledged.Count >= Kills * 20, $"only {acknowledged.Count} of {attempts} pushes were acknowledged");
                await VerifyAsync(serve.BaseAddress, acknowledged, cancel);
            }
            finally
            {
                serve.Dispose();
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Collector_AnswersEveryWriteInFlight_AndExitsCleanly_WhenStoppedWithSigterm()
    {
        var cancel = TestContext.Current.CancellationToken;
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-sigterm-").FullName;
        var port = FreePort.Next();
        var uploads = new[] { TestData.Read("profefe/collector_cpu_1.prof") };
        var acknowledged = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var rejected = new ConcurrentBag<int>();
        try
        {
            using (var serve = await ServeProcess.StartAsync(dataDirectory, port, cancel))
            {
                using var stopWriters = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                var writers = Enumerable.Range(0, Writers)
                    .Select(w => Task.Run(() => WriteUntilStoppedAsync(serve.BaseAddress, w, uploads, acknowledged, () => 0, stopWriters.Token, rejected), cancel))
                    .ToArray();
                while (acknowledged.Count < 40)
                {
                    await Task.Delay(20, cancel);
                }

                Assert.Equal(0, serve.Terminate(TimeSpan.FromSeconds(40)));
                await stopWriters.CancelAsync();
                await Task.WhenAll(writers);
            }

            // A request either got its answer or never got in: none was cut off with an error.
            Assert.Empty(rejected);
            using var restarted = await ServeProcess.StartAsync(dataDirectory, port, cancel);
            await VerifyAsync(restarted.BaseAddress, acknowledged, cancel);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task WriteUntilStoppedAsync(
        Uri baseAddress, int writer, byte[][] uploads, ConcurrentDictionary<string, byte[]> acknowledged, Func<int> countAttempt, CancellationToken stop, ConcurrentBag<int>? rejected = null)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var data = uploads[(writer + i) % uploads.Length];
            countAttempt();
            try
            {
                using var content = new ByteArrayContent(data);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                using var response = await client.PostAsync($"api/0/profiles?service=crash&type=other&labels=writer={writer},seq={i}", content, stop);
                if (!response.IsSuccessStatusCode)
                {
                    rejected?.Add((int)response.StatusCode);
                    continue;
                }

                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(stop));
                acknowledged[json.RootElement.GetProperty("body").GetProperty("id").GetString()!] = data;
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !stop.IsCancellationRequested))
            {
                // The collector is down or died mid-request: nothing was acknowledged, try again shortly.
                await Task.Delay(20, CancellationToken.None);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static async Task VerifyAsync(Uri baseAddress, ConcurrentDictionary<string, byte[]> acknowledged, CancellationToken cancel)
    {
        using var client = new HttpClient { BaseAddress = baseAddress };
        using var find = await client.GetAsync("api/0/profiles?service=crash&from=2019-01-01T00:00:00&to=2030-01-01T00:00:00", cancel);
        Assert.Equal(200, (int)find.StatusCode);
        using var json = JsonDocument.Parse(await find.Content.ReadAsStringAsync(cancel));
        var found = json.RootElement.GetProperty("body").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToHashSet(StringComparer.Ordinal);

        var missing = acknowledged.Keys.Where(id => !found.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged profiles are missing: {string.Join(", ", missing.Take(10))}");

        // Acknowledged ones are byte-identical; every stored one (acknowledged or not) is whole.
        foreach (var id in found)
        {
            var bytes = await client.GetByteArrayAsync("api/0/profiles/" + id, cancel);
            if (acknowledged.TryGetValue(id, out var uploaded))
            {
                Assert.Equal(uploaded, bytes);
            }
            else
            {
                ProfileDecoder.Decode(bytes);
            }
        }
    }
}
