using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Profefe.Core.Profiles;
using Profefe.Core.Storage.Segments;
using Profefe.Pprof;
using Profefe.Storage.S3;
using Profefe.Testing;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests;

/// <summary>
/// Two <c>profefe serve</c> processes batch into segments on one bucket and schema while writers push to both;
/// either is SIGKILLed at random moments and replaced, several times. Afterwards every acknowledged profile is
/// found exactly once from either collector, a merge by query (the profile engine's, which is on) counts every
/// stored profile once, and once the orphan grace interval has passed the bucket holds no segment object the index
/// does not name (the killed collectors' unindexed PUTs are swept).
/// </summary>
[Trait(TestCategory.Name, TestCategory.Chaos)]
[Collection(StoragePostgresTests.Name)]
public sealed class ScaleOutKillTests(PostgresServerFixture fixture, CephRgwServerFixture ceph) : IClassFixture<CephRgwServerFixture>
{
    private const int Writers = 8;
    private const int Kills = 4;
    private const string Service = "killed";
    private static readonly TimeSpan OrphanGrace = TimeSpan.FromSeconds(8);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoBatchingCollectors_KilledAtRandom_KeepEveryAcknowledgedProfileOnce_AndLeaveNoOrphans()
    {
        await using var schema = new PostgresTestSchema(fixture.Require());
        var rgw = ceph.Require();
        var bucket = await ScaleOutStores.CreateBucketAsync(rgw);
        var settings = ScaleOutStores.S3Postgres(rgw, bucket, schema);
        settings["Storage:S3:OrphanMinAge"] = OrphanGrace.ToString();
        settings["Storage:Segments:Window"] = "00:00:00.100";
        settings["Retention:Interval"] = "00:00:01";
        // The engine cuts and compacts while the collectors are killed: no pause for the writers' burst.
        settings["Engine:MaxCutDelay"] = "00:00:00";
        var workingDirectory = Directory.CreateTempSubdirectory("profefe-kill-").FullName;
        var collectors = new ServeProcess?[2];
        try
        {
            collectors[0] = await ServeProcess.StartListeningAsync(settings, workingDirectory, Token);
            collectors[1] = await ServeProcess.StartListeningAsync(settings, workingDirectory, Token);
            var acknowledged = new ConcurrentDictionary<string, Upload>(StringComparer.Ordinal);
            var unexpected = new ConcurrentQueue<string>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
            var writers = ScaleOutTraffic.StartWriters(Writers, async (writer, i) =>
            {
                var collector = Volatile.Read(ref collectors[(writer + i) % 2]);
                if (collector is null)
                {
                    await Task.Delay(20, stop.Token);
                    return;
                }

                var upload = ScaleOutTraffic.Uploads[(writer + i) % ScaleOutTraffic.Uploads.Length];
                try
                {
                    using var push = await ScaleOutTraffic.PushAsync(collector.Client, Service, upload, $"writer={writer},seq={i}", stop.Token);
                    if (push.StatusCode == HttpStatusCode.OK)
                    {
                        ScaleOutTraffic.Acknowledge(acknowledged, await ScaleOutTraffic.IdOfAsync(push, stop.Token), upload);
                    }
                    else if (push.StatusCode != HttpStatusCode.ServiceUnavailable)
                    {
                        unexpected.Enqueue($"{(int)push.StatusCode} {await push.Content.ReadAsStringAsync(stop.Token)}");
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !stop.IsCancellationRequested && e.InnerException is IOException))
                {
                    // The collector was killed under this push (the connection refused or reset, or the answer cut off
                    // while it was read): never acknowledged, so it may or may not be stored.
                    await Task.Delay(20, stop.Token);
                }
            }, stop.Token);

            try
            {
                for (var kill = 0; kill < Kills; kill++)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(500, 1_500)), Token);
                    var victim = Random.Shared.Next(2);
                    var killed = Interlocked.Exchange(ref collectors[victim], null)!;
                    killed.Kill();
                    killed.Dispose();
                    Volatile.Write(ref collectors[victim], await ServeProcess.StartListeningAsync(settings, workingDirectory, Token));
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), Token);
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(writers);
            }

            Assert.True(unexpected.IsEmpty, $"answers neither 200 nor 503: {string.Join(" | ", unexpected.Take(5))}");
            Assert.True(acknowledged.Count >= 20, $"only {acknowledged.Count} pushes were acknowledged");
            foreach (var collector in collectors)
            {
                await ScaleOutTraffic.VerifyAsync(collector!.Client, Service, acknowledged, Token);
                await AssertEachPushStoredAtMostOnceAsync(collector.Client);
                await AssertMergeCountsEachStoredProfileOnceAsync(collector.Client);
            }

            await AssertNoOrphanSegmentsAsync(settings, schema, () => string.Join("\n", collectors.SelectMany(static c => c!.Output.Split('\n'))
                .Where(static line => line.Contains("orphan", StringComparison.OrdinalIgnoreCase) || line.Contains("retention", StringComparison.OrdinalIgnoreCase) || line.Contains("fail", StringComparison.OrdinalIgnoreCase))
                .TakeLast(30)));
        }
        finally
        {
            foreach (var collector in collectors)
            {
                collector?.Dispose();
            }

            Directory.Delete(workingDirectory, recursive: true);
        }
    }

    /// <summary>No push (its writer and sequence labels) is found under two ids.</summary>
    private static async Task AssertEachPushStoredAtMostOnceAsync(HttpClient client)
    {
        using var find = await client.GetAsync($"api/0/profiles?service={Service}&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00", Token);
        using var json = JsonDocument.Parse(await find.Content.ReadAsStringAsync(Token));
        var pushes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var meta in json.RootElement.GetProperty("body").EnumerateArray())
        {
            var labels = meta.GetProperty("labels").EnumerateArray().Select(static l => $"{l.GetProperty("key").GetString()}={l.GetProperty("value").GetString()}").Order(StringComparer.Ordinal);
            var push = string.Join(',', labels);
            Assert.True(pushes.Add(push), $"push {push} is stored twice");
        }
    }

    /// <summary>
    /// The merge by query of each type (answered by the profile engine once it has cut every stored profile) totals
    /// exactly what the stored profiles total one by one: a profile the engine cut twice, or missed, would show.
    /// </summary>
    private static async Task AssertMergeCountsEachStoredProfileOnceAsync(HttpClient client)
    {
        foreach (var type in ScaleOutTraffic.Uploads.Select(static u => u.Type).Distinct())
        {
            using var find = await client.GetAsync($"api/0/profiles?service={Service}&type={type}&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00", Token);
            using var json = JsonDocument.Parse(await find.Content.ReadAsStringAsync(Token));
            var expected = 0L;
            foreach (var meta in json.RootElement.GetProperty("body").EnumerateArray())
            {
                var bytes = await client.GetByteArrayAsync("api/0/profiles/" + meta.GetProperty("id").GetString(), Token);
                expected += ProfileDecoder.Decode(bytes).Samples.Sum(static s => s.Values[0]);
            }

            Assert.Equal(expected, await ScaleOutTraffic.MergedTotalAsync(client, Service, type, Token));
        }
    }

    /// <summary>Within a few grace intervals every segment object in the bucket has its segments row.</summary>
    private static async Task AssertNoOrphanSegmentsAsync(Dictionary<string, string?> settings, PostgresTestSchema schema, Func<string> collectorLogs)
    {
        using var segments = new S3SegmentObjectStore(new S3StorageOptions
        {
            ServiceUrl = settings["Storage:S3:ServiceUrl"]!,
            Region = settings["Storage:S3:Region"]!,
            Bucket = settings["Storage:S3:Bucket"]!,
            AccessKey = settings["Storage:S3:AccessKey"]!,
            SecretKey = settings["Storage:S3:SecretKey"]!,
            ForcePathStyle = true,
        });
        var deadline = DateTime.UtcNow + (4 * OrphanGrace) + TimeSpan.FromSeconds(10);
        while (true)
        {
            var objects = new List<SegmentId>();
            await foreach (var page in segments.ListAsync(null, DateTime.MaxValue, Token))
            {
                objects.AddRange(page);
            }

            var rows = (await schema.ReadColumnAsync<byte[]>("segments", "id")).Select(static id => new SegmentId(ProfileId.FromBytes(id))).ToHashSet();
            if (objects.Count == rows.Count)
            {
                return;
            }

            Assert.True(
                DateTime.UtcNow < deadline,
                $"{objects.Count} segment objects but {rows.Count} segments rows {(4 * OrphanGrace) + TimeSpan.FromSeconds(10)} after the last write; "
                + $"now {DateTime.UtcNow:HH:mm:ss.fff}, objects without a row named at {string.Join(", ", objects.Where(o => !rows.Contains(o)).Select(static o => o.Timestamp.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)))}; "
                + $"the collectors logged:\n{collectorLogs()}");
            await Task.Delay(TimeSpan.FromSeconds(1), Token);
        }
    }
}
