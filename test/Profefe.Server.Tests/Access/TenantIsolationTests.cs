using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Profefe.Server.Pyroscope.Protos.Querier;
using Profefe.Server.Pyroscope.Protos.Types;
using Profefe.Server.Tests.Pyroscope;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Storage;

namespace Profefe.Server.Tests.Access;

/// <summary>
/// Two tenants on one collector, over every endpoint family: profefe's API, the UI's API, time series, and
/// Pyroscope's ingest and querier. What one tenant pushed, the other cannot find, download, merge or list.
/// </summary>
public sealed class TenantIsolationTests
{
    private const string WriterA = AccessTests.WriterA;
    private const string ReaderA = AccessTests.ReaderA;
    private const string Range = "from=2000-01-01T00:00:00&to=2100-01-01T00:00:00";
    private const long IngestFrom = 1_765_000_000;
    private const string Querier = "querier.v1.QuerierService/";
    private const string CpuNanoseconds = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryEndpointFamily_ShowsNothingOfTenantA_ToTenantB_WhileTenantASeesItsOwn()
    {
        await using var collector = await StartWithTokensAsync();
        using var a = Client(collector, WriterA + ":" + ReaderA);
        using var b = Client(collector, AccessTests.WriterB);
        var id = await PushAndIngestAsync(a);

        await AssertOnlyOwnerSeesAsync(id, a, b);
        Assert.Equal(0, await TimeSeriesCountAsync(b));
        Assert.Equal(1, await TimeSeriesCountAsync(a));
        Assert.Empty(await ServiceNamesAsync(b));
        Assert.Equal(["shop", "svc1"], await ServiceNamesAsync(a));
        Assert.Equal(0, await FlameTotalAsync(b));
        Assert.True(await FlameTotalAsync(a) > 0);
    }

    [Fact]
    public async Task Tenants_NamedByHeaderAlone_AreKeptApart_AndTheDefaultTenantSeesNeitherBeyondItsOwn()
    {
        await using var collector = await TestCollector.StartAsync();
        using var a = Client(collector, null, "team-a");
        using var b = Client(collector, null, "team-b");
        using var anonymous = Client(collector, null);
        var id = await PushAndIngestAsync(a);

        await AssertOnlyOwnerSeesAsync(id, a, b, anonymous);
        Assert.Empty(await ServiceNamesAsync(anonymous));
        Assert.Equal(["shop", "svc1"], await ServiceNamesAsync(a));
        var ofDefaultTenant = await PushAsync(anonymous, null);
        using var notForA = await a.Http.GetAsync("api/0/profiles/" + ofDefaultTenant, Cancel);
        Assert.Equal(404, (int)notForA.StatusCode);
    }

    [Fact]
    public async Task Tenants_OnTheEmbeddedStore_SeeOnlyTheirOwnProfiles()
    {
        await using var collector = await TestCollector.StartAsync();

        await TenantIsolationOverHttp.AssertKeptApartAsync(collector.Client, TestData.Read("go/cpu_hash_01.pb.gz"));
    }

    [Fact]
    public async Task PyroscopeUiAndTimeSeries_Answer401Or403_ForAMissingTokenOrTheWrongScopeOrTenant()
    {
        await using var collector = await StartWithTokensAsync();
        using var none = Client(collector, null);
        using var writerOnly = Client(collector, WriterA);
        using var readerOnly = Client(collector, ReaderA);
        using var writerAsB = Client(collector, WriterA, "team-b");
        using var readerAsB = Client(collector, ReaderA, "team-b");

        using var ingestWithoutToken = await IngestAsync(none, null);
        using var ingestByReader = await IngestAsync(readerOnly, null);
        using var ingestForOtherTenant = await IngestAsync(writerAsB, null);
        using var pushByReader = await new PyroscopeClient(readerOnly.Http, json: false).SendAsync("push.v1.PusherService/Push", new Profefe.Server.Pyroscope.Protos.Push.PushRequest());
        using var querierWithoutToken = await new PyroscopeClient(none.Http, json: false).SendAsync(Querier + "LabelNames", new LabelNamesRequest());
        using var querierByWriter = await new PyroscopeClient(writerOnly.Http, json: false).SendAsync(Querier + "LabelNames", new LabelNamesRequest());
        using var querierForOtherTenant = await new PyroscopeClient(readerAsB.Http, json: false).SendAsync(Querier + "LabelNames", new LabelNamesRequest());
        using var uiByWriter = await writerOnly.Http.GetAsync("api/ui/services", Cancel);
        using var uiForOtherTenant = await readerAsB.Http.GetAsync("api/ui/services", Cancel);
        using var seriesWithoutToken = await none.Http.GetAsync($"api/0/timeseries?service=svc1&type=cpu&{Range}&step=2592000", Cancel);
        using var seriesForOtherTenant = await readerAsB.Http.GetAsync($"api/0/timeseries?service=svc1&type=cpu&{Range}&step=2592000", Cancel);

        Assert.Equal(401, (int)ingestWithoutToken.StatusCode);
        await AssertErrorAsync(ingestByReader, 403, "forbidden: the access token of tenant \"team-a\" has no write scope");
        await AssertErrorAsync(ingestForOtherTenant, 403, "forbidden: the access token is for tenant \"team-a\", not \"team-b\" (X-Scope-OrgID)");
        Assert.Equal(403, (int)pushByReader.StatusCode);
        Assert.Equal(401, (int)querierWithoutToken.StatusCode);
        Assert.Equal(403, (int)querierByWriter.StatusCode);
        Assert.Equal(403, (int)querierForOtherTenant.StatusCode);
        await AssertErrorAsync(uiByWriter, 403, "forbidden: the access token of tenant \"team-a\" has no read scope");
        await AssertErrorAsync(uiForOtherTenant, 403, "forbidden: the access token is for tenant \"team-a\", not \"team-b\" (X-Scope-OrgID)");
        Assert.Equal(401, (int)seriesWithoutToken.StatusCode);
        Assert.Equal(403, (int)seriesForOtherTenant.StatusCode);
    }

    // Every read a browser, profefe's clients or Grafana make that names a profile, a service or a label.
    private static string[] ReadUrls(string id) =>
    [
        $"api/0/profiles?service=svc1&{Range}",
        $"api/0/profiles?service=svc1&type=cpu&labels=region=eu&{Range}",
        "api/0/profiles/" + id,
        $"api/0/profiles/{id}+{id}",
        $"api/0/profiles/merge?service=svc1&type=cpu&{Range}",
        $"api/0/profiles/merge?service=shop&type=cpu&{Range}",
        "api/0/services",
        "api/0/labels",
        "api/0/labels?service=svc1",
        "api/ui/services",
        "api/ui/latest",
        "api/ui/profile?id=" + id,
        "api/ui/flame?id=" + id,
        $"api/ui/profile?service=svc1&type=cpu&{Range}",
        $"api/ui/compare?base_id={id}&new_id={id}",
    ];

    private static Task<TestCollector> StartWithTokensAsync() => AccessTests.StartWithTokensAsync();

    private static async Task<string> PushAndIngestAsync(TenantClient owner)
    {
        var id = await PushAsync(owner, null);
        using var ingest = await IngestAsync(owner, null);
        Assert.Equal(200, (int)ingest.StatusCode);
        return id;
    }

    private static async Task AssertOnlyOwnerSeesAsync(string id, TenantClient owner, params TenantClient[] others)
    {
        foreach (var url in ReadUrls(id))
        {
            foreach (var other in others)
            {
                using var ofOther = await other.Http.GetAsync(url, Cancel);
                await AssertNothingAsync(ofOther, url);
            }

            using var ofOwner = await owner.Http.GetAsync(url, Cancel);
            await AssertSomethingAsync(ofOwner, url);
        }

        foreach (var other in others)
        {
            Assert.DoesNotContain(id, await TimelineAsync(other), StringComparison.Ordinal);
        }

        Assert.Contains(id, await TimelineAsync(owner), StringComparison.Ordinal);
    }

    /// <summary>
    /// A client acting as one party: <paramref name="tokens"/> is one token, or "writer:reader" for tenant A, whose
    /// writes and reads go with their own token.
    /// </summary>
    private static TenantClient Client(TestCollector collector, string? tokens, string? tenant = null) => new(collector.BaseAddress, tokens, tenant);

    private static async Task<string> PushAsync(TenantClient client, string? tenant)
    {
        using var content = new ByteArrayContent(TestData.Read("profefe/collector_cpu_1.prof"));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/0/profiles?service=svc1&type=cpu&labels=region=eu") { Content = content };
        client.Authorize(request, write: true, tenant);
        using var response = await client.Http.SendAsync(request, Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True((int)response.StatusCode == 200, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("body").GetProperty("id").GetString()!;
    }

    private static async Task<HttpResponseMessage> IngestAsync(TenantClient client, string? tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"ingest?name=shop{{pod=a-1}}&from={IngestFrom}&until={IngestFrom + 10}&spyName=gospy")
        {
            Content = PyroscopeIngestTests.Text("main;work 10\nmain;idle 5\n"),
        };
        client.Authorize(request, write: true, tenant);
        return await client.Http.SendAsync(request, Cancel);
    }

    // The UI's timeline answers an empty timeline rather than 404: what matters is that it names no profile of A's.
    private static async Task<string> TimelineAsync(TenantClient client)
    {
        using var response = await client.Http.GetAsync($"api/ui/timeline?service=svc1&type=cpu&{Range}", Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True((int)response.StatusCode == 200, body);
        return body;
    }

    private static async Task<long> TimeSeriesCountAsync(TenantClient client)
    {
        using var response = await client.Http.GetAsync($"api/0/timeseries?service=svc1&type=cpu&{Range}&step=2592000", Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True((int)response.StatusCode == 200, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("body").GetProperty("series").EnumerateArray()
            .Sum(s => s.GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64()));
    }

    private static async Task<List<string>> ServiceNamesAsync(TenantClient client)
    {
        var reply = await new PyroscopeClient(client.Http, json: false)
            .CallAsync(Querier + "LabelValues", new LabelValuesRequest { Name = "service_name" }, LabelValuesResponse.Parser);
        return [.. reply.Names.Order(StringComparer.Ordinal)];
    }

    private static async Task<long> FlameTotalAsync(TenantClient client)
    {
        var request = new SelectMergeStacktracesRequest { ProfileTypeID = CpuNanoseconds, LabelSelector = "{service_name=\"shop\"}", Start = 0, End = 0 };
        var reply = await new PyroscopeClient(client.Http, json: false).CallAsync(Querier + "SelectMergeStacktraces", request, SelectMergeStacktracesResponse.Parser);
        return reply.Flamegraph?.Total ?? 0;
    }

    /// <summary>404 "nothing found", as for an unknown id or service, or a 200 listing nothing.</summary>
    private static async Task AssertNothingAsync(HttpResponseMessage response, string url)
    {
        var body = await response.Content.ReadAsStringAsync(Cancel);
        if ((int)response.StatusCode == 404)
        {
            Assert.Contains("nothing found", body, StringComparison.Ordinal);
            return;
        }

        Assert.True((int)response.StatusCode == 200, $"{url}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        var reply = json.RootElement.GetProperty("body");
        Assert.True(reply.ValueKind is JsonValueKind.Null || (reply.ValueKind is JsonValueKind.Array && reply.GetArrayLength() == 0), $"{url}: {body}");
    }

    private static async Task AssertSomethingAsync(HttpResponseMessage response, string url)
    {
        var body = await response.Content.ReadAsByteArrayAsync(Cancel);
        Assert.True((int)response.StatusCode == 200, $"{url}: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
        if (response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            using var json = JsonDocument.Parse(body);
            var reply = json.RootElement.GetProperty("body");
            Assert.False(reply.ValueKind is JsonValueKind.Null || (reply.ValueKind is JsonValueKind.Array && reply.GetArrayLength() == 0), $"{url}: empty");
        }
        else
        {
            Assert.NotEmpty(body);
        }
    }

    private static Task AssertErrorAsync(HttpResponseMessage response, int status, string message) => CollectorApiTests.AssertErrorAsync(response, status, message);

    private sealed class TenantClient : IDisposable
    {
        private static readonly HttpRequestOptionsKey<bool> Write = new("write");
        private readonly string? _writeToken;
        private readonly string? _readToken;
        private readonly string? _tenant;

        public TenantClient(Uri baseAddress, string? tokens, string? tenant)
        {
            var parts = tokens?.Split(':');
            _writeToken = parts?[0];
            _readToken = parts?[^1];
            _tenant = tenant;
            Http = new HttpClient(new AuthorizingHandler(this) { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = baseAddress };
        }

        public HttpClient Http { get; }

        public void Authorize(HttpRequestMessage request, bool write, string? tenant)
        {
            request.Options.Set(Write, write);
            if ((tenant ?? _tenant) is { } name)
            {
                request.Headers.Remove("X-Scope-OrgID");
                request.Headers.Add("X-Scope-OrgID", name);
            }
        }

        public void Dispose() => Http.Dispose();

        private sealed class AuthorizingHandler(TenantClient client) : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var write = request.Options.TryGetValue(Write, out var w) && w;
                if ((write ? client._writeToken : client._readToken) is { } token)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                }

                if (client._tenant is { } tenant && !request.Headers.Contains("X-Scope-OrgID"))
                {
                    request.Headers.Add("X-Scope-OrgID", tenant);
                }

                return base.SendAsync(request, cancellationToken);
            }
        }
    }
}
