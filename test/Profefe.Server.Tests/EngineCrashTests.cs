using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Engine;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests;

/// <summary>
/// The profile engine under SIGKILL: writers push CPU profiles spread over several hours while the real
/// <c>profefe serve</c> is killed again and again, in the middle of cutting blocks (small batches, so a cut is
/// almost always under way) and of compacting them (killed just after the writers stop, while it catches up).
/// Afterwards every stored profile is counted exactly once by the engine's merge and its time series.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Chaos)]
public sealed class EngineCrashTests
{
    private const int Writers = 3;
    private const int Kills = 5;
    private static readonly ConcurrentQueue<string> Failures = new();

    private static readonly DateTime BaseTime = new(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Engine:CutBatch"] = "7",
        ["Engine:CutInterval"] = "00:00:00.050",

        // Cut while the writers push, not after: the kills must land in cuts.
        ["Engine:MaxCutDelay"] = "00:00:00",
    };

    [Fact]
    public async Task Engine_CountsEveryStoredProfileOnce_WhenKilledWhileCuttingAndCompacting()
    {
        var cancel = TestContext.Current.CancellationToken;
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-engine-crash-").FullName;
        var port = FreePort.Next();
        // Without a time of its own, the profile is stored at the created_at the writer gives.
        var profile = ProfileDecoder.Decode(TestData.Read("go/cpu_json_01.pb.gz"));
        profile.TimeNanos = 0;
        var upload = ProfileEncoder.EncodeToArray(profile);
        var acknowledged = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var random = new Random(7);
        try
        {
            var serve = await ServeProcess.StartAsync(dataDirectory, port, cancel, Settings);
            try
            {
                for (var kill = 0; kill < Kills; kill++)
                {
                    using var stopWriters = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                    var writers = Enumerable.Range(0, Writers)
                        .Select(w => Task.Run(() => WriteUntilStoppedAsync(serve.BaseAddress, w + (kill * Writers), upload, acknowledged, stopWriters.Token), cancel))
                        .ToArray();
                    await Task.Delay(random.Next(300, 1500), cancel);
                    if (kill % 2 == 1)
                    {
                        // Stop writing first: the engine is then cutting the backlog and compacting when killed.
                        await stopWriters.CancelAsync();
                        await Task.WhenAll(writers);
                        await Task.Delay(random.Next(0, 400), cancel);
                    }

                    serve.Kill();
                    serve.Dispose();
                    await stopWriters.CancelAsync();
                    await Task.WhenAll(writers);
                    serve = await ServeProcess.StartAsync(dataDirectory, port, cancel, Settings);
                }

                Assert.True(acknowledged.Count >= 30, $"only {acknowledged.Count} pushes were acknowledged; refusals: {string.Join("; ", Failures.Take(3))}");
                await VerifyAsync(serve.BaseAddress, acknowledged, upload, cancel);
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

    private static async Task WriteUntilStoppedAsync(Uri baseAddress, int writer, byte[] upload, ConcurrentDictionary<string, bool> acknowledged, CancellationToken stop)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            // Spread over six hours, so that cuts write several buckets and leave blocks to compact.
            var createdAt = BaseTime.AddMinutes(((writer * 37) + (i * 13)) % 360);
            try
            {
                using var content = new ByteArrayContent(upload);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                using var response = await client.PostAsync($"api/0/profiles?service=crash&type=cpu&labels=writer={writer % Writers}&created_at={createdAt:yyyy-MM-ddTHH:mm:ss}", content, stop);
                if (!response.IsSuccessStatusCode)
                {
                    Failures.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(stop)}");
                }
                else
                {
                    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(stop));
                    acknowledged[json.RootElement.GetProperty("body").GetProperty("id").GetString()!] = true;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !stop.IsCancellationRequested))
            {
                await Task.Delay(20, CancellationToken.None);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static async Task VerifyAsync(Uri baseAddress, ConcurrentDictionary<string, bool> acknowledged, byte[] upload, CancellationToken cancel)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };
        const string Range = "from=2026-03-01T00:00:00&to=2026-03-01T06:00:00";
        using var find = await client.GetAsync($"api/0/profiles?service=crash&type=cpu&{Range}", cancel);
        using var json = JsonDocument.Parse(await find.Content.ReadAsStringAsync(cancel));
        var found = json.RootElement.GetProperty("body").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToHashSet(StringComparer.Ordinal);
        var missing = acknowledged.Keys.Count(id => !found.Contains(id));
        Assert.True(missing == 0, $"{missing} of {acknowledged.Count} acknowledged profiles are missing");

        // Every stored profile is the same upload: the merge is found.Count times its values, no more, no less.
        var one = StackValues.Totals(ProfileDecoder.Decode(upload));
        var merged = ProfileDecoder.Decode(await client.GetByteArrayAsync($"api/0/profiles/merge?service=crash&type=cpu&{Range}", cancel));
        Assert.Equal(one.Select(v => v * found.Count), StackValues.Totals(merged));

        using var series = await client.GetAsync($"api/0/timeseries?service=crash&type=cpu&{Range}&step=3600&group_by=writer", cancel);
        Assert.Equal(200, (int)series.StatusCode);
        using var points = JsonDocument.Parse(await series.Content.ReadAsStringAsync(cancel));
        var counted = points.RootElement.GetProperty("body").GetProperty("series").EnumerateArray()
            .Sum(s => s.GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64()));
        Assert.Equal(found.Count, counted);
    }
}
