using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Fuzz;

/// <summary>
/// Mutated requests against every route of an in-process collector (issue 16, acceptance 3). The run is seeded: the
/// seed is printed, and <c>PROFEFE_FUZZ_SEED=&lt;seed&gt;</c> replays it (case <i>i</i> is built from the seed and
/// <i>i</i> alone, whatever order the workers send in); <c>PROFEFE_FUZZ_SEED=random</c> explores a new seed;
/// <c>PROFEFE_FUZZ_COUNT</c> runs more or fewer cases. The default seed is fixed so that a CI run is repeatable:
/// a random seed once found a case in CI that no earlier run had met, and a red build must replay as red.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Chaos)]
public sealed class EndpointFuzzTests
{
    private const int DefaultCount = 10_000;
    private const int DefaultSeed = 1_874_495_751;
    private const int Workers = 4;
    private const string CatchAllRoute = "/api/0/{**rest}";

    // Generous: CI shares 2 cores; a request that takes this long is stuck, not slow.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Endpoints_AnswerOnly2xxOr4xxWithAReason_AndKeepStoredData_WhenRequestsAreMutated()
    {
        var seed = Environment.GetEnvironmentVariable("PROFEFE_FUZZ_SEED") switch
        {
            null or "" => DefaultSeed,
            "random" => Random.Shared.Next(),
            var seedText => int.Parse(seedText, CultureInfo.InvariantCulture),
        };
        var count = Environment.GetEnvironmentVariable("PROFEFE_FUZZ_COUNT") is { Length: > 0 } countText
            ? int.Parse(countText, CultureInfo.InvariantCulture)
            : DefaultCount;
        TestContext.Current.TestOutputHelper?.WriteLine($"fuzz seed {seed} ({count} cases); replay with PROFEFE_FUZZ_SEED={seed}");

        await using var collector = await TestCollector.StartAsync();
        var (ids, originals) = await StoreCorpusAsync(collector.Client);
        var seeds = FuzzSeeds.For(ids);
        AssertEveryRouteHasSeeds(collector.Services, seeds);
        await AssertSeedsAreValidAsync(collector.Client, seeds);

        var options = collector.Services.GetRequiredService<IOptions<CollectorOptions>>().Value;
        var bombs = new FuzzBombs(options.MaxDecompressedBytes, options.MaxSamplesPerProfile, options.MaxStackDepth);
        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        async Task WorkAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var random = new Random(unchecked((seed * 1_000_003) + i));
                var request = new RequestMutator(random, bombs).Mutate(seeds[random.Next(seeds.Count)]);
                var (status, problem) = await SendAsync(collector.Client, request);
                statuses.AddOrUpdate(status, 1, static (_, n) => n + 1);
                if (problem is not null)
                {
                    failures.Enqueue($"case {i}: {problem}\n    {request}");
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(WorkAsync, Cancel)));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{count} cases in {clock.Elapsed.TotalSeconds:0.0} s; answers: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");

        Assert.True(failures.IsEmpty, $"seed {seed} (replay with PROFEFE_FUZZ_SEED={seed}): {failures.Count} of {count} cases failed; the first:\n"
            + string.Join("\n", failures.Take(15)));
        using var health = await collector.Client.GetAsync("health", Cancel);
        Assert.Equal(200, (int)health.StatusCode);
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal(originals[i], await collector.Client.GetByteArrayAsync("api/0/profiles/" + ids[i], Cancel));
        }
    }

    /// <summary>What is allowed besides 2xx, and every 4xx must say in JSON what is wrong.</summary>
    /// <returns>Null when the answer is allowed, else what is wrong with it.</returns>
    private static string? Check(FuzzRequest request, int status, byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return status switch
        {
            >= 200 and < 300 => null,
            >= 300 and < 400 => request.Route is "/" or "/ui/{*file}" ? null : $"redirect {status} from an API",

            // profefe's documented answer for ids that cannot be merged (cpu+heap, a trace): test/testdata/contract/profefe-api-v0.md.
            500 when request.Route == "/api/0/profiles/{**rest}"
                && (text.Contains("failed to get profile by id", StringComparison.Ordinal) || text.Contains("failed to merge profiles: incompatible", StringComparison.Ordinal)) => null,

            // Connect's protocol requires "unimplemented" (HTTP 501) for a Content-Encoding the server does not take.
            501 when request.IsConnect && text.Contains("\"unimplemented\"", StringComparison.Ordinal) && text.Contains("Content-Encoding", StringComparison.Ordinal) => null,
            // Kestrel refuses a NUL in the path as a malformed request line, before any of the collector's code runs.
            400 when body.Length == 0 && request.PathAndQuery.Split('?')[0].Contains("%00", StringComparison.Ordinal) => null,
            >= 400 and < 500 => ErrorBodyProblem(text) is { } problem ? $"{status} {problem}" : null,
            _ => $"{status}: {(text.Length > 300 ? text[..300] : text)}",
        };
    }

    private static string? ErrorBodyProblem(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && (Says(json.RootElement, "error") || Says(json.RootElement, "message")))
            {
                return null;
            }
        }
        catch (JsonException)
        {
        }

        return $"without a JSON body saying what is wrong: \"{(text.Length > 200 ? text[..200] : text)}\"";

        static bool Says(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0;
    }

    private static async Task<(int Status, string? Problem)> SendAsync(HttpClient client, FuzzRequest request)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var message = request.ToHttpRequest();
            using var response = await client.SendAsync(message, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            return ((int)response.StatusCode, Check(request, (int)response.StatusCode, body));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !Cancel.IsCancellationRequested)
        {
            return (0, $"no answer within {RequestTimeout.TotalSeconds} s");
        }
        catch (HttpRequestException e)
        {
            return (-1, "the connection failed: " + e.Message);
        }
    }

    private static async Task<(List<string> Ids, List<byte[]> Originals)> StoreCorpusAsync(HttpClient client)
    {
        var ids = new List<string>();
        var originals = new List<byte[]>();
        foreach (var (file, type) in FuzzSeeds.Stored)
        {
            using var content = new ByteArrayContent(TestData.Read(file));
            using var response = await client.PostAsync($"api/0/profiles?service=fuzz&type={type}&labels=host=a,version=1", content, Cancel);
            var text = await response.Content.ReadAsStringAsync(Cancel);
            Assert.True(response.IsSuccessStatusCode, $"{file}: {text}");
            using var json = JsonDocument.Parse(text);
            var id = json.RootElement.GetProperty("body").GetProperty("id").GetString()!;
            ids.Add(id);
            originals.Add(await client.GetByteArrayAsync("api/0/profiles/" + id, Cancel));
        }

        return (ids, originals);
    }

    /// <summary>Routes come from the endpoint registration, so a new endpoint without seeds fails here.</summary>
    private static void AssertEveryRouteHasSeeds(IServiceProvider services, List<FuzzRequest> seeds)
    {
        var routes = services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .ToHashSet(StringComparer.Ordinal);
        var seeded = seeds.Select(s => s.Route).ToHashSet(StringComparer.Ordinal);
        Assert.True(routes.Count > 30, $"only {routes.Count} routes found: {string.Join(", ", routes)}");
        Assert.Empty(routes.Except(seeded).Order(StringComparer.Ordinal));
        Assert.Empty(seeded.Except(routes).Order(StringComparer.Ordinal));
    }

    /// <summary>Mutations start from requests that work: each seed answers 2xx (the documented 500 and 404 aside).</summary>
    private static async Task AssertSeedsAreValidAsync(HttpClient client, List<FuzzRequest> seeds)
    {
        var wrong = new List<string>();
        foreach (var seed in seeds)
        {
            using var message = seed.ToHttpRequest();
            using var response = await client.SendAsync(message, Cancel);
            var body = await response.Content.ReadAsByteArrayAsync(Cancel);
            var status = (int)response.StatusCode;
            var expected = seed.Route == CatchAllRoute ? status == 404 : status is >= 200 and < 400 || Check(seed, status, body) is null && status == 500;
            if (!expected)
            {
                wrong.Add($"{status} {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)))}\n    {seed}");
            }
        }

        Assert.True(wrong.Count == 0, "seeds that do not work:\n" + string.Join("\n", wrong));
    }
}
