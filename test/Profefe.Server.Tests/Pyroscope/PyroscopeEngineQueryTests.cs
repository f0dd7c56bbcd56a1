using System.Globalization;
using System.Net.Http.Headers;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Pprof;
using Profefe.Server.Pyroscope.Protos.Querier;
using Profefe.Server.Pyroscope.Protos.Types;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Pyroscope;

/// <summary>
/// Issue 15, acceptance 5: Pyroscope's queries are answered by the profile engine. The same profiles go to a collector
/// without the engine (every query reads raw profiles) and to one whose raw bytes retention has deleted (only the
/// engine can answer); every query method gives the same reply from both.
/// </summary>
public sealed class PyroscopeEngineQueryTests
{
    private const string Querier = "/querier.v1.QuerierService/";
    private const string CpuNanoseconds = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
    private const string Samples = "process_cpu:samples:count:cpu:nanoseconds";
    private static readonly DateTime Start = new(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task EveryQueryMethod_AnswersAsTheRawProfilesDo_WhenOnlyTheEngineHoldsThem()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var raw = await TestCollector.StartAsync([new("Engine:Enabled", "false")]);
        await using var engine = await TestCollector.StartAsync(
        [
            new("Retention:Period", "00:00:00"),
            new("Retention:RawPeriod", "00:00:01"),
            new("Retention:Interval", "00:00:01"),
        ]);

        // Five hours of three pods; some profiles sit exactly on hour boundaries and in their first millisecond,
        // where Pyroscope's steps and the engine's hour rollups meet.
        var pushed = new List<ProfileId>();
        var corpus = Directory.GetFiles(TestData.PathOf("go"), "cpu_*.pb.gz").Order(StringComparer.Ordinal).Take(6).Select(WithoutTime).ToList();
        var random = new Random(1913);
        for (var i = 0; i < 90; i++)
        {
            var at = Start.AddMinutes(random.Next(0, 5 * 60)).AddMilliseconds(i % 5 == 0 ? 0 : random.Next(0, 60_000));
            if (i % 9 == 0)
            {
                at = Start.AddHours(i % 5);
            }

            var pod = "p" + (i % 3).ToString(CultureInfo.InvariantCulture);
            var body = corpus[i % corpus.Count];
            await PushAsync(raw, body, pod, at, cancel);
            pushed.Add(await PushAsync(engine, body, pod, at, cancel));
        }

        await WaitRawGoneAsync(engine, pushed, cancel);

        // The replies compared below hold data: a wrong time or selector would make both empty and equal.
        var all = await new PyroscopeClient(raw.Client, json: false).CallAsync(
            Querier + "SelectSeries",
            new SelectSeriesRequest { ProfileTypeID = CpuNanoseconds, LabelSelector = "{service_name=\"shop\"}", Start = Ms(Start.AddMinutes(-30)), End = Ms(Start.AddHours(6)), Step = 3600, GroupBy = { "pod" } },
            SelectSeriesResponse.Parser);
        Assert.Equal(3, all.Series.Count);
        Assert.Equal(6, all.Series.SelectMany(static s => s.Points).Select(static p => p.Timestamp).Distinct().Count());

        var from = Start.AddMinutes(-30);
        var to = Start.AddHours(6);
        var selectors = new[] { "{service_name=\"shop\"}", "{service_name=\"shop\",pod=\"p1\"}", "{service_name=\"shop\",pod=~\"p[02]\"}", "{}" };
        var ranges = new[] { (from, to), (Start.AddMinutes(37).AddSeconds(13), Start.AddHours(3).AddMinutes(5)), (Start.AddHours(1), Start.AddHours(3)) };
        foreach (var json in new[] { false, true })
        {
            var a = new PyroscopeClient(raw.Client, json);
            var b = new PyroscopeClient(engine.Client, json);
            await SameAsync(a, b, "ProfileTypes", new ProfileTypesRequest { Start = Ms(from), End = Ms(to) }, ProfileTypesResponse.Parser);
            await SameAsync(a, b, "LabelNames", new LabelNamesRequest { Matchers = { "{service_name=\"shop\"}" }, Start = Ms(from), End = Ms(to) }, LabelNamesResponse.Parser);
            await SameAsync(a, b, "LabelValues", new LabelValuesRequest { Name = "pod", Start = Ms(from), End = Ms(to) }, LabelValuesResponse.Parser);
            await SameAsync(a, b, "Series", new SeriesRequest { Matchers = { "{service_name=\"shop\"}" }, Start = Ms(from), End = Ms(to) }, SeriesResponse.Parser);
            // The query matrix once in binary; JSON only changes the encoding, shown by the listings above.
            foreach (var (first, last) in json ? ranges[..1] : ranges)
            {
                foreach (var selector in selectors)
                {
                    foreach (var type in new[] { CpuNanoseconds, Samples })
                    {
                        await SameReadsAsync(a, b, selector, first, last, type, type, [3600.0, 900.0, 7200.0]);
                    }
                }
            }
        }

        var query = Uri.EscapeDataString(CpuNanoseconds + "{service_name=\"shop\"}");
        var render = $"pyroscope/render?query={query}&from={Ms(from) / 1000}&until={Ms(to) / 1000}&format=json";
        Assert.Equal(await raw.Client.GetStringAsync(render, cancel), await engine.Client.GetStringAsync(render, cancel));
    }

    [Fact]
    public Task Queries_ProfilesNotCutYet_AddsThemRawWithoutWaitingForTheCutter() =>
        AssertUncutAddedRawAsync([]);

    /// <summary>
    /// Issue 14: with the cutter stopped, Pyroscope's queries on a collector with <paramref name="storage"/> settings
    /// answer as a collector without the engine does, from the engine's blocks as of its cursor plus the profiles
    /// logged after it, read raw.
    /// </summary>
    internal static async Task AssertUncutAddedRawAsync(IEnumerable<KeyValuePair<string, string?>> storage)
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var raw = await TestCollector.StartAsync([new("Engine:Enabled", "false")]);

        // No catch-up time and a merge cap below what the wider queries select: the old path (wait for the cutter,
        // else read raw) would answer those merges 400, so only the engine as of its cursor plus the uncut profiles
        // read raw can answer them.
        await using var engine = await TestCollector.StartAsync([.. storage, new("Engine:CatchUpTimeout", "00:00:00"), new("Collector:MaxMergeProfiles", "40")]);
        var corpus = Directory.GetFiles(TestData.PathOf("go"), "cpu_*.pb.gz").Order(StringComparer.Ordinal).Take(6).Select(WithoutTime).ToList();
        var random = new Random(1409);
        async Task PushBothAsync(int i, string pod, DateTime at)
        {
            await PushAsync(raw, corpus[i % corpus.Count], pod, at, cancel);
            await PushAsync(engine, corpus[i % corpus.Count], pod, at, cancel);
        }

        for (var i = 0; i < 45; i++)
        {
            var at = i % 9 == 0 ? Start.AddHours(i % 5) : Start.AddMinutes(random.Next(0, 5 * 60)).AddMilliseconds(random.Next(0, 60_000));
            await PushBothAsync(i, "p" + (i % 3).ToString(CultureInfo.InvariantCulture), at);
        }

        var profileEngine = engine.Services.GetRequiredService<Profefe.Core.Engine.ProfileEngine>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await profileEngine.CatchUpAsync(cancel))
        {
            Assert.True(DateTime.UtcNow < deadline, "the engine did not take in 45 profiles in two minutes");
            await Task.Delay(50, cancel);
        }

        // The cutter stopped: what comes now stays uncut, in hours the engine has and in new ones, on a new pod too.
        await profileEngine.StopAsync(cancel);
        var cursor = profileEngine.Cursor;
        for (var i = 0; i < 15; i++)
        {
            var at = i % 4 == 0 ? Start.AddHours(6 + (i % 2)) : Start.AddMinutes(random.Next(0, 5 * 60)).AddMilliseconds(random.Next(0, 60_000));
            await PushBothAsync(i, i % 2 == 0 ? "p9" : "p1", at);
        }

        Assert.Equal(cursor, profileEngine.Cursor);
        Assert.False(await profileEngine.CatchUpAsync(cancel));

        var from = Start.AddMinutes(-30);
        var to = Start.AddHours(8);
        var all = await new PyroscopeClient(raw.Client, json: false).CallAsync(
            Querier + "SelectSeries",
            new SelectSeriesRequest { ProfileTypeID = CpuNanoseconds, LabelSelector = "{service_name=\"shop\"}", Start = Ms(from), End = Ms(to), Step = 3600, GroupBy = { "pod" } },
            SelectSeriesResponse.Parser);
        Assert.Equal(4, all.Series.Count);

        var a = new PyroscopeClient(raw.Client, json: false);
        var b = new PyroscopeClient(engine.Client, json: false);
        await SameAsync(a, b, "Series", new SeriesRequest { Matchers = { "{service_name=\"shop\"}" }, Start = Ms(from), End = Ms(to) }, SeriesResponse.Parser);
        await SameAsync(a, b, "LabelValues", new LabelValuesRequest { Name = "pod", Start = Ms(from), End = Ms(to) }, LabelValuesResponse.Parser);
        var ranges = new[] { (from, to), (Start.AddMinutes(37).AddSeconds(13), Start.AddHours(6).AddMinutes(5)) };
        foreach (var (first, last) in ranges)
        {
            foreach (var selector in new[] { "{service_name=\"shop\"}", "{service_name=\"shop\",pod=~\"p[19]\"}", "{pod=\"p9\"}", "{}" })
            {
                await SameReadsAsync(a, b, selector, first, last, CpuNanoseconds, Samples, [3600.0, 900.0]);
            }
        }

        var query = Uri.EscapeDataString(CpuNanoseconds + "{service_name=\"shop\"}");
        var render = $"pyroscope/render?query={query}&from={Ms(from) / 1000}&until={Ms(to) / 1000}&format=json";
        Assert.Equal(await raw.Client.GetStringAsync(render, cancel), await engine.Client.GetStringAsync(render, cancel));
    }

    /// <summary>
    /// One selector's reads over [first, last] answered alike by both: the merged stacks and, per step, the series (plain,
    /// then averaged by pod) of <paramref name="type"/>, and the merged profile of <paramref name="profileType"/>.
    /// </summary>
    private static async Task SameReadsAsync(PyroscopeClient a, PyroscopeClient b, string selector, DateTime first, DateTime last, string type, string profileType, double[] steps)
    {
        var merge = new SelectMergeStacktracesRequest { ProfileTypeID = type, LabelSelector = selector, Start = Ms(first), End = Ms(last), MaxNodes = 100_000 };
        await SameAsync(a, b, "SelectMergeStacktraces", merge, SelectMergeStacktracesResponse.Parser);
        await SameProfileAsync(a, b, new SelectMergeProfileRequest { ProfileTypeID = profileType, LabelSelector = selector, Start = Ms(first), End = Ms(last) });
        foreach (var step in steps)
        {
            var series = new SelectSeriesRequest { ProfileTypeID = type, LabelSelector = selector, Start = Ms(first), End = Ms(last), Step = step };
            await SameAsync(a, b, "SelectSeries", series, SelectSeriesResponse.Parser);
            series.GroupBy.Add("pod");
            series.Aggregation = TimeSeriesAggregationType.Average;
            await SameAsync(a, b, "SelectSeries", series, SelectSeriesResponse.Parser);
        }
    }

    private static async Task SameAsync<TResponse>(PyroscopeClient raw, PyroscopeClient engine, string method, IMessage request, MessageParser<TResponse> parser)
        where TResponse : IMessage<TResponse>, new()
    {
        var expected = await raw.CallAsync(Querier + method, request, parser);
        var actual = await engine.CallAsync(Querier + method, request, parser);
        Assert.True(expected.Equals(actual), $"{method} {JsonFormatter.Default.Format(request)}:\n{FirstDifference(expected, actual)}");
    }

    // A merged profile's tables may be numbered differently; its samples, spelled out, may not differ.
    private static async Task SameProfileAsync(PyroscopeClient raw, PyroscopeClient engine, SelectMergeProfileRequest request)
    {
        var expected = await raw.CallAsync(Querier + "SelectMergeProfile", request, Profefe.Server.Pyroscope.Protos.Pprof.Profile.Parser);
        var actual = await engine.CallAsync(Querier + "SelectMergeProfile", request, Profefe.Server.Pyroscope.Protos.Pprof.Profile.Parser);
        Assert.Equal(StoredProfiles.Stacks(ProfileDecoder.Decode(expected.ToByteArray()), 0), StoredProfiles.Stacks(ProfileDecoder.Decode(actual.ToByteArray()), 0));
    }

    // Replies are long; where they first part is what a failure needs to show.
    private static string FirstDifference(IMessage expected, IMessage actual)
    {
        var a = JsonFormatter.Default.Format(expected);
        var b = JsonFormatter.Default.Format(actual);
        var at = 0;
        while (at < a.Length && at < b.Length && a[at] == b[at])
        {
            at++;
        }

        var from = Math.Max(0, at - 200);
        return $"first difference at character {at} of {a.Length} (raw) / {b.Length} (engine):\nraw:    …{a[from..Math.Min(a.Length, at + 300)]}\nengine: …{b[from..Math.Min(b.Length, at + 300)]}";
    }

    private static long Ms(DateTime time) => (time - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;

    // The corpus profiles carry their own time_nanos, which the collector would prefer to created_at.
    private static byte[] WithoutTime(string path)
    {
        var profile = ProfileDecoder.Decode(File.ReadAllBytes(path));
        profile.TimeNanos = 0;
        return ProfileEncoder.EncodeToArray(profile, compress: true);
    }

    private static async Task<ProfileId> PushAsync(TestCollector collector, byte[] body, string pod, DateTime at, CancellationToken cancel)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var createdAt = Uri.EscapeDataString(at.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        using var response = await collector.Client.PostAsync($"api/0/profiles?service=shop&type=cpu&labels=pod={pod}&created_at={createdAt}", content, cancel);
        var text = await response.Content.ReadAsStringAsync(cancel);
        Assert.True(response.IsSuccessStatusCode, text);
        using var json = System.Text.Json.JsonDocument.Parse(text);
        return ProfileId.Parse(json.RootElement.GetProperty("body").GetProperty("id").GetString()!);
    }

    private static async Task WaitRawGoneAsync(TestCollector collector, List<ProfileId> ids, CancellationToken cancel)
    {
        var reader = collector.Services.GetRequiredService<IProfileReader>();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var left = 0;
            await foreach (var _ in reader.ListProfilesAsync(TenantId.Default, ids, cancel))
            {
                left++;
            }

            if (left == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"raw retention still had {left} of {ids.Count} profiles after a minute");
            await Task.Delay(200, cancel);
        }
    }
}
