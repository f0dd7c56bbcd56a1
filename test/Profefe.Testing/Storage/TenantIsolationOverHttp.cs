using System.Net.Http.Headers;
using System.Text.Json;

namespace Profefe.Testing.Storage;

/// <summary>
/// The tenant rule end to end on a running collector, whatever its backend: a profile pushed for one tenant
/// (X-Scope-OrgID) is found, downloaded, merged and listed by that tenant only.
/// </summary>
public static class TenantIsolationOverHttp
{
    private const string Range = "from=2000-01-01T00:00:00&to=2100-01-01T00:00:00";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Pushes <paramref name="data"/> (a CPU profile) as tenant "team-a" and checks what "team-b" and the default tenant see.</summary>
    public static async Task AssertKeptApartAsync(HttpClient client, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var push = await SendAsync(client, HttpMethod.Post, "api/0/profiles?service=isolated&type=cpu&labels=region=eu", "team-a", content);
        var pushed = await push.Content.ReadAsStringAsync(Token);
        Assert.True((int)push.StatusCode == 200, pushed);
        using var reply = JsonDocument.Parse(pushed);
        var id = reply.RootElement.GetProperty("body").GetProperty("id").GetString()!;

        string[] urls =
        [
            $"api/0/profiles?service=isolated&type=cpu&labels=region=eu&{Range}",
            "api/0/profiles/" + id,
            $"api/0/profiles/{id}+{id}",
            $"api/0/profiles/merge?service=isolated&type=cpu&{Range}",
            "api/0/labels?service=isolated",
        ];
        foreach (var url in urls)
        {
            foreach (var other in new[] { "team-b", null })
            {
                using var response = await SendAsync(client, HttpMethod.Get, url, other);
                var body = await response.Content.ReadAsStringAsync(Token);
                Assert.True(
                    (int)response.StatusCode == 404 || ((int)response.StatusCode == 200 && body.Contains("\"body\":[]", StringComparison.Ordinal)),
                    $"{url} as {other ?? "the default tenant"}: {(int)response.StatusCode} {body}");
            }

            using var own = await SendAsync(client, HttpMethod.Get, url, "team-a");
            Assert.True((int)own.StatusCode == 200, $"{url} as team-a: {(int)own.StatusCode} {await own.Content.ReadAsStringAsync(Token)}");
        }

        using var services = await SendAsync(client, HttpMethod.Get, "api/0/services", "team-b");
        Assert.DoesNotContain("isolated", await services.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        using var ownServices = await SendAsync(client, HttpMethod.Get, "api/0/services", "team-a");
        Assert.Contains("\"isolated\"", await ownServices.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, string? tenant, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        if (tenant is not null)
        {
            request.Headers.Add("X-Scope-OrgID", tenant);
        }

        return await client.SendAsync(request, Token);
    }
}
