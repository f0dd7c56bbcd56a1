using System.Text;
using System.Text.Json;
using Profefe.Pprof;
using Profefe.Server.Pyroscope.Protos.Querier;
using Profefe.Server.Tests.Pyroscope;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using static Profefe.Server.Tests.CollectorApiTests;

namespace Profefe.Server.Tests.Fuzz;

/// <summary>What <see cref="EndpointFuzzTests"/> found, pinned so it stays fixed whatever seed a run draws.</summary>
public sealed class FuzzFindingsTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FoldedIngest_Answers422_WhenAStackValueOverflowsOnceScaledByThePeriod()
    {
        await using var collector = await TestCollector.StartAsync();
        using var content = new ByteArrayContent("main;work 9223372036854775807\n"u8.ToArray());

        using var response = await PyroscopeClient.IngestAsync(collector.Client, "name=app.cpu&format=folded&sampleRate=100&from=1700000000&until=1700000010", content);

        Assert.Equal(422, (int)response.StatusCode);
        Assert.Contains("overflows a 64-bit sample value", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
        await StoredProfiles.AssertNothingStoredAsync(collector.Client);
    }

    [Fact]
    public async Task Post_Answers400NamingBothLayouts_WhenACpuProfileHasAMutatedSampleTypeName_AndMergesOfTheServiceStay200()
    {
        await using var collector = await TestCollector.StartAsync();
        using var good = await PushAsync(collector, "fuzz", "cpu", TestData.Read("go/cpu_hash_02.pb.gz"));

        using var mutated = await PushAsync(collector, "fuzz", "cpu", MutatedSampleTypeName());
        using var merge = await collector.Client.GetAsync($"api/0/profiles/merge?service=fuzz&type=cpu&{FuzzSeeds.Range}", Cancel);

        Assert.Equal(200, (int)good.StatusCode);
        await AssertErrorAsync(mutated, 400, MutatedLayoutRefusal);
        Assert.Equal(200, (int)merge.StatusCode);
    }

    [Fact]
    public async Task Post_Answers400_WhenTheMutatedProfileComesAfterARestart_FromTheStoredProfilesLayout()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-layout-").FullName;
        try
        {
            await using (var before = await TestCollector.StartAsync(dataDirectory: dataDirectory))
            {
                using var good = await PushAsync(before, "fuzz", "cpu", TestData.Read("go/cpu_hash_02.pb.gz"));
                Assert.Equal(200, (int)good.StatusCode);
            }

            await using var after = await TestCollector.StartAsync(dataDirectory: dataDirectory);
            using var mutated = await PushAsync(after, "fuzz", "cpu", MutatedSampleTypeName());
            using var other = await PushAsync(after, "fuzz", "other", MutatedSampleTypeName());

            await AssertErrorAsync(mutated, 400, MutatedLayoutRefusal);
            Assert.Equal(200, (int)other.StatusCode);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task SelectSeries_AnswersInvalidArgument_WhenGroupByNamesTooManyLabels()
    {
        await using var collector = await TestCollector.StartAsync();
        var request = new SelectSeriesRequest { ProfileTypeID = "process_cpu:cpu:nanoseconds:cpu:nanoseconds", LabelSelector = "{}", Start = 1, End = 2, Step = 1 };
        request.GroupBy.AddRange(Enumerable.Range(0, 101).Select(i => "l" + i));

        using var response = await new PyroscopeClient(collector.Client, json: false).SendAsync("querier.v1.QuerierService/SelectSeries", request);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("group_by names 101 labels; at most 100", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LabelNames_AnswersInvalidArgument_WhenTheRequestHasTooManyMatchers()
    {
        await using var collector = await TestCollector.StartAsync();
        var request = new Profefe.Server.Pyroscope.Protos.Types.LabelNamesRequest();
        request.Matchers.AddRange(Enumerable.Repeat("{}", 101));

        using var response = await new PyroscopeClient(collector.Client, json: true).SendAsync("querier.v1.QuerierService/LabelNames", request);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("101 matchers; at most 100", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
    }

    private const string MutatedLayoutRefusal =
        "bad request: profile pushed as type=cpu has sample types [sampleS/count cpu/nanoseconds] period cpu/nanoseconds, but the cpu profiles of service \"fuzz\" " +
        "have [samples/count cpu/nanoseconds] period cpu/nanoseconds, and only profiles with the same sample and period types merge; push it under another service or as type=other";

    /// <summary>What the fuzzer stored once: a cpu profile whose first sample type name had one byte changed.</summary>
    private static byte[] MutatedSampleTypeName()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz"));
        profile.SampleTypes[0] = profile.SampleTypes[0] with { Type = "sampleS" };
        return ProfileEncoder.EncodeToArray(profile);
    }

    [Fact]
    public async Task ConnectCall_Answers415WithAJsonReason_WhenTheContentTypeIsNoCodec()
    {
        await using var collector = await TestCollector.StartAsync();
        using var content = new StringContent("{}", Encoding.UTF8, "text/plain");

        using var response = await collector.Client.PostAsync("querier.v1.QuerierService/ProfileTypes", content, Cancel);

        Assert.Equal(415, (int)response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        Assert.Contains("\"text/plain\" is not a Connect codec", json.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
