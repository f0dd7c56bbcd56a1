using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Access;

/// <summary>Tokens, scopes and tenants; host allow-list, cross-site requests and the UI's security headers.</summary>
public sealed class AccessTests
{
    internal const string WriterA = "writer-of-team-a-0123456789";
    internal const string ReaderA = "reader-of-team-a-0123456789";
    internal const string WriterB = "writer-of-team-b-0123456789";
    private const string Find = "api/0/profiles?service=svc1&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Requests_Answer401Or403WithTheReason_WhenTheTokenIsMissingUnknownOrOfTheWrongScopeOrTenant()
    {
        await using var collector = await StartWithTokensAsync();

        using var none = await PushAsync(collector, null);
        using var unknown = await PushAsync(collector, "Bearer not-a-known-token-at-all");
        using var readOnly = await PushAsync(collector, "Bearer " + ReaderA);
        using var otherTenant = await PushAsync(collector, "Bearer " + WriterA, tenant: "team-b");
        using var writeOnlyReads = await SendAsync(collector, HttpMethod.Get, Find, "Bearer " + WriterA);

        await AssertErrorAsync(none, 401, "unauthorized: this collector needs an access token: send it as Authorization: Bearer, or Basic with the token as password");
        Assert.Equal("Basic realm=\"profefe\", Bearer", none.Headers.WwwAuthenticate.ToString());
        await AssertErrorAsync(unknown, 401, "unauthorized: unknown access token");
        await AssertErrorAsync(readOnly, 403, "forbidden: the access token of tenant \"team-a\" has no write scope");
        await AssertErrorAsync(otherTenant, 403, "forbidden: the access token is for tenant \"team-a\", not \"team-b\" (X-Scope-OrgID)");
        await AssertErrorAsync(writeOnlyReads, 403, "forbidden: the access token of tenant \"team-a\" has no read scope");
    }

    [Fact]
    public async Task Requests_AreServed_WithBearerOrBasicTokens_AndHealthNeedsNone()
    {
        await using var collector = await StartWithTokensAsync();

        using var bearer = await PushAsync(collector, "Bearer " + WriterA);
        using var basic = await PushAsync(collector, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("team-a:" + WriterA)), tenant: "team-a");
        using var find = await SendAsync(collector, HttpMethod.Get, Find, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("anyone:" + ReaderA)));
        using var health = await collector.Client.GetAsync("health", Cancel);
        using var ui = await collector.Client.GetAsync("ui/", Cancel);

        Assert.Equal(200, (int)bearer.StatusCode);
        Assert.Equal(200, (int)basic.StatusCode);
        Assert.Equal(200, (int)find.StatusCode);
        Assert.Equal(200, (int)health.StatusCode);
        Assert.Equal(200, (int)ui.StatusCode);
    }

    [Fact]
    public async Task Pushes_ActForTheTokensTenant_SoTheSameIdempotencyKeyOfTwoTenantsStoresTwice()
    {
        await using var collector = await StartWithTokensAsync();

        using var a = await PushAsync(collector, "Bearer " + WriterA, idempotencyKey: "k1");
        using var b = await PushAsync(collector, "Bearer " + WriterB, idempotencyKey: "k1");
        using var aAgain = await PushAsync(collector, "Bearer " + WriterA, idempotencyKey: "k1");

        Assert.Equal(IdOf(await a.Content.ReadAsStringAsync(Cancel)), IdOf(await aAgain.Content.ReadAsStringAsync(Cancel)));
        Assert.NotEqual(IdOf(await a.Content.ReadAsStringAsync(Cancel)), IdOf(await b.Content.ReadAsStringAsync(Cancel)));
    }

    [Fact]
    public async Task Start_FailsNamingTheFix_WhenListeningBeyondLoopbackWithoutTokens_UnlessExplicitlyDisabled()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Collector:Address"] = "0.0.0.0:0",
            ["Storage:Type"] = "local",
            ["Storage:Local:DataDirectory"] = Directory.CreateTempSubdirectory("profefe-access-").FullName,
        };

        var error = Assert.Throws<OptionsValidationException>(() => CollectorHost.Build(settings));
        Assert.Contains("set Access:RequireToken=false to serve without authentication", error.Message, StringComparison.Ordinal);

        settings["Access:RequireToken"] = "false";
        await using var app = CollectorHost.Build(settings);
        await app.StartAsync(Cancel);
        await app.StopAsync(Cancel);
    }

    [Fact]
    public async Task Requests_Answer400_WhenTheHostIsNotALoopbackName_OnALoopbackCollector()
    {
        await using var collector = await TestCollector.StartAsync();

        using var rebound = new HttpRequestMessage(HttpMethod.Get, "api/0/services");
        rebound.Headers.Host = "attacker.example:" + collector.BaseAddress.Port;
        using var refused = await collector.Client.SendAsync(rebound, Cancel);
        using var named = new HttpRequestMessage(HttpMethod.Get, "health");
        named.Headers.Host = "localhost:" + collector.BaseAddress.Port;
        using var served = await collector.Client.SendAsync(named, Cancel);

        await AssertErrorAsync(refused, 400, "bad request: host \"attacker.example\" is not allowed (Access:AllowedHosts)");
        Assert.Equal(200, (int)served.StatusCode);
    }

    [Fact]
    public async Task Requests_Answer403AndStoreNothing_WhenABrowserSendsThemFromAnotherSite_ButLinksAndNonBrowsersAreServed()
    {
        await using var collector = await TestCollector.StartAsync();

        using var fetchMetadata = await PushAsync(collector, null, headers: [("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "no-cors")]);
        using var origin = await PushAsync(collector, null, headers: [("Origin", "http://attacker.example")]);
        using var merge = await SendAsync(collector, HttpMethod.Get, "api/0/profiles/merge?service=svc1&type=cpu&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00", null,
            [("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "no-cors")]);
        using var link = await SendAsync(collector, HttpMethod.Get, Find, null, [("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "navigate")]);
        using var ownPage = await PushAsync(collector, null, headers: [("Sec-Fetch-Site", "same-origin"), ("Origin", collector.BaseAddress.GetLeftPart(UriPartial.Authority))]);
        using var curl = await PushAsync(collector, null);

        await AssertErrorAsync(fetchMetadata, 403, "forbidden: cross-site request refused (Sec-Fetch-Site: cross-site); use the collector's own pages, or a client that is not a browser");
        await AssertErrorAsync(origin, 403, "forbidden: cross-site request refused (Origin: http://attacker.example); use the collector's own pages, or a client that is not a browser");
        Assert.Equal(403, (int)merge.StatusCode);
        Assert.Equal(404, (int)link.StatusCode);
        Assert.Equal(200, (int)ownPage.StatusCode);
        Assert.Equal(200, (int)curl.StatusCode);
    }

    [Fact]
    public async Task Ui_IsServedWithAContentSecurityPolicy_AndMayNotBeFramed()
    {
        await using var collector = await TestCollector.StartAsync();

        using var page = await collector.Client.GetAsync("ui/", Cancel);

        Assert.Equal(200, (int)page.StatusCode);
        Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
    }

    /// <summary>Tokens: team-a's writer and reader (one scope each), team-b's reader-writer.</summary>
    internal static Task<TestCollector> StartWithTokensAsync() => TestCollector.StartAsync(new Dictionary<string, string?>
    {
        ["Access:RequireToken"] = "true",
        ["Access:Tokens:0:Token"] = WriterA,
        ["Access:Tokens:0:Tenant"] = "team-a",
        ["Access:Tokens:0:Scopes:0"] = "write",
        ["Access:Tokens:1:Token"] = ReaderA,
        ["Access:Tokens:1:Tenant"] = "team-a",
        ["Access:Tokens:1:Scopes:0"] = "read",
        ["Access:Tokens:2:Token"] = WriterB,
        ["Access:Tokens:2:Tenant"] = "team-b",
        ["Access:Tokens:2:Scopes:0"] = "read",
        ["Access:Tokens:2:Scopes:1"] = "write",
    });

    private static Task<HttpResponseMessage> PushAsync(
        TestCollector collector, string? authorization, string? tenant = null, string? idempotencyKey = null, (string, string)[]? headers = null)
    {
        var all = new List<(string, string)>(headers ?? []);
        if (tenant is not null)
        {
            all.Add(("X-Scope-OrgID", tenant));
        }

        if (idempotencyKey is not null)
        {
            all.Add(("Idempotency-Key", idempotencyKey));
        }

        return SendAsync(collector, HttpMethod.Post, "api/0/profiles?service=svc1&type=cpu", authorization, [.. all], TestData.Read("profefe/collector_cpu_1.prof"));
    }

    private static async Task<HttpResponseMessage> SendAsync(
        TestCollector collector, HttpMethod method, string url, string? authorization, (string Name, string Value)[]? headers = null, byte[]? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await collector.Client.SendAsync(request, Cancel);
    }

    private static string IdOf(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("body").GetProperty("id").GetString()!;
    }

    private static Task AssertErrorAsync(HttpResponseMessage response, int status, string message) => CollectorApiTests.AssertErrorAsync(response, status, message);
}
