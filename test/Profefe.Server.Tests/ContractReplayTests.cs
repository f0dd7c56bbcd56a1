using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests;

/// <summary>
/// Replays every request of the recorded profefe transcript against a running collector and checks the
/// status, Content-Type, Content-Disposition and body of each answer: JSON byte for byte (ids mapped to
/// ours), single downloads byte-identical to the upload, merges by pprof's summary of the profile.
/// </summary>
public sealed class ContractReplayTests
{
    private const string CpuOne = "dc38nn38di192ieigdtg";
    private const string CpuTwo = "dc38nn38di192ieigdu0";

    // The deliberate differences listed at the top of the contract.
    private static readonly Dictionary<string, (int Status, string? Json)> Differences = new(StringComparer.Ordinal)
    {
        // Label filter: profefe's merge-join bug dropped cpu_2, which also matches.
        ["032"] = (200, "{\"code\":200,\"body\":[{\"id\":\"" + CpuOne + "\",\"type\":\"cpu\",\"service\":\"svc1\",\"labels\":[{\"key\":\"dc\",\"value\":\"fra\"},{\"key\":\"region\",\"value\":\"europe-west3\"},{\"key\":\"version\",\"value\":\"1.0\"}],\"created_at\":\"2019-05-30T21:10:05Z\"},"
            + "{\"id\":\"" + CpuTwo + "\",\"type\":\"cpu\",\"service\":\"svc1\",\"labels\":[{\"key\":\"dc\",\"value\":\"ams\"},{\"key\":\"region\",\"value\":\"europe-west3\"}],\"created_at\":\"2019-05-30T21:14:00Z\"}]}"),

        // RFC 3339 with a zone is accepted beside profefe's layout: the same answer as 029.
        ["052"] = (200, null),

        // Several ids with some or all unknown: 404 naming them, not a silent drop or a 500.
        ["064"] = (404, "{\"code\":404,\"error\":\"nothing found: unknown profile id \\\"bpc00mript33iv4net00\\\"\"}"),

        // "bpc00mript33iv4net01" is not a canonical id: its last character sets bits that 12 bytes do not
        // have, so it can only be a typo. It answers 400; two unknown canonical ids answer 404 (tested beside).
        ["066"] = (400, "{\"code\":400,\"error\":\"bad request: malformed profile id \\\"bpc00mript33iv4net01\\\"\"}"),

        // Ids that cannot be merged: profefe's text, then the reason profefe only logs.
        ["063"] = (500, "{\"code\":500,\"error\":\"failed to get profile by id \\\"dc38nn38di192ieigdtg+dc38nn38di192ieigdv0\\\": incompatible period types cpu/nanoseconds and space/bytes\"}"),
        ["069"] = (500, "{\"code\":500,\"error\":\"failed to get profile by id \\\"dc38nn38di192ieige00+dc38nn38di192ieige00\\\": parsing profile: unrecognized profile format\"}"),

        // Malformed ids are the client's mistake: 400, not 500.
        ["067"] = (400, "{\"code\":400,\"error\":\"bad request: malformed profile id \\\"not-an-id!\\\"\"}"),
        ["091"] = (302, null),
        ["068"] = (400, "{\"code\":400,\"error\":\"bad request: empty profile id in \\\"" + CpuOne + "++" + CpuTwo + "\\\"\"}"),

        // Content contradicting its type is refused (issue 16: one such profile made every merge of its service
        // fail), so svc3 has no profile: its merge finds nothing and the service lists leave it out.
        ["013"] = (400, "{\"code\":400,\"error\":\"bad request: profile pushed as type=heap has sample type \\\"samples\\\" of a cpu profile ([samples cpu]); push it with its own type or as type=other\"}"),
        ["014"] = (400, "{\"code\":400,\"error\":\"bad request: profile pushed as type=goroutine has sample type \\\"alloc_objects\\\" of a heap profile ([alloc_objects alloc_space inuse_objects inuse_space]); push it with its own type or as type=other\"}"),
        ["082"] = (404, "{\"code\":404,\"error\":\"nothing found\"}"),
        ["083"] = (200, "{\"code\":200,\"body\":[\"svc1\",\"svc2\",\"svc4\"]}"),
        ["084"] = (200, "{\"code\":200,\"body\":[\"svc1\",\"svc2\",\"svc4\"]}"),
    };

    [Fact]
    public async Task ContractTranscript_AnswersAsRecorded_WhenReplayedAgainstRunningCollector()
    {
        var exchanges = ContractTranscript.Parse(await File.ReadAllTextAsync(TestData.PathOf("contract/profefe-api-v0.md"), TestContext.Current.CancellationToken));
        Assert.Equal(91, exchanges.Count);
        var findCpuAllTime = exchanges.Single(e => e.Number == "029").JsonBody;

        await using var collector = await TestCollector.StartAsync();
        var substitutions = new Dictionary<string, string>(StringComparer.Ordinal);
        var failures = new List<string>();
        var started = DateTime.UtcNow.AddSeconds(-1);
        foreach (var exchange in exchanges)
        {
            var (status, json) = Differences.TryGetValue(exchange.Number, out var difference)
                ? difference
                : (exchange.Status, exchange.JsonBody);
            if (exchange.Number == "052")
            {
                json = findCpuAllTime;
            }

            using var request = new HttpRequestMessage(new HttpMethod(exchange.Method), Substitute(exchange.PathAndQuery, substitutions).TrimStart('/'));
            request.Content = RequestContent(exchange.RequestBody);
            using var response = await collector.Client.SendAsync(request, TestContext.Current.CancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
            void Fail(string what) => failures.Add($"{exchange.Number} {exchange.Title}: {what}");

            if ((int)response.StatusCode != status)
            {
                Fail($"status {(int)response.StatusCode}, expected {status}; body {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(300, body.Length)))}");
                continue;
            }

            // POSTs map profefe's ids (and the one "now") to ours before anything is compared.
            if (exchange.Method == "POST" && exchange.PathAndQuery.StartsWith("/api/0/profiles?", StringComparison.Ordinal) && status == 200)
            {
                RecordSubstitutions(exchange, body, substitutions, started, Fail);
            }

            var disposition = exchange.Headers.GetValueOrDefault("Content-Disposition");
            if (exchange.Number is "066" or "067" or "068")
            {
                disposition = null;
            }

            CheckHeader(Fail, "Content-Disposition", disposition is null ? null : Substitute(disposition, substitutions), response.Content.Headers.ContentDisposition?.ToString());
            if (exchange.Number is "001" or "086")
            {
                CheckVersion(body, Fail);
            }
            else if (exchange.Number == "091")
            {
                // The web UI lives at "/" (an addition): the root redirects to it instead of Go's 404 page.
                CheckHeader(Fail, "Location", "/ui/", response.Headers.Location?.ToString());
            }
            else if (json is not null)
            {
                CheckHeader(Fail, "Content-Type", "application/json", response.Content.Headers.ContentType?.ToString());
                var expected = Substitute(json, substitutions) + "\n";
                var actual = Encoding.UTF8.GetString(body);
                if (expected != actual)
                {
                    Fail($"body\n  expected {expected}  actual   {actual}");
                }

                if (response.Content.Headers.ContentLength != body.Length)
                {
                    Fail($"Content-Length {response.Content.Headers.ContentLength}, body has {body.Length} bytes");
                }
            }
            else if (exchange.BinaryBody is { } binary)
            {
                CheckHeader(Fail, "Content-Type", "application/octet-stream", response.Content.Headers.ContentType?.ToString());
                CheckBinary(exchange, binary, body, Fail);
            }
            else if (exchange.EmptyBody)
            {
                if (body.Length != 0 || response.Content.Headers.ContentLength != 0)
                {
                    Fail($"expected an empty body with Content-Length 0, got {body.Length} bytes");
                }
            }
            else if (exchange.TextBody is { } text)
            {
                CheckGoNotFound(exchange, response, body, text, Fail);
            }
            else
            {
                Fail("the transcript entry has no body this test understands");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {exchanges.Count} exchanges differ:\n" + string.Join("\n", failures));
    }

    private static void CheckGoNotFound(ContractExchange exchange, HttpResponseMessage response, byte[] body, string text, Action<string> fail)
    {
        CheckHeader(fail, "Content-Type", exchange.Headers["Content-Type"], response.Content.Headers.ContentType?.ToString());
        CheckHeader(fail, "X-Content-Type-Options", exchange.Headers["X-Content-Type-Options"], string.Join(",", response.Headers.TryGetValues("X-Content-Type-Options", out var values) ? values : []));
        if (Encoding.UTF8.GetString(body) != text + "\n")
        {
            fail($"body {Encoding.UTF8.GetString(body)}");
        }
    }

    /// <summary>The version answer has profefe's four fields in its order; their values describe this build.</summary>
    private static void CheckVersion(byte[] body, Action<string> fail)
    {
        using var json = JsonDocument.Parse(body);
        var names = json.RootElement.GetProperty("body").EnumerateObject().Select(p => p.Name + ":" + p.Value.ValueKind);
        var expected = "version:String,commit:String,build_time:String,go_version:String";
        if (string.Join(",", names) != expected || json.RootElement.GetProperty("code").GetInt32() != 200 || body[^1] != (byte)'\n')
        {
            fail($"version body {Encoding.UTF8.GetString(body)}");
        }
    }

    private static void CheckBinary(ContractExchange exchange, ContractBinary binary, byte[] body, Action<string> fail)
    {
        var path = exchange.PathAndQuery;
        var single = !path.Contains("/merge", StringComparison.Ordinal) && !path.Contains('+', StringComparison.Ordinal) && !path.Contains("%2B", StringComparison.Ordinal);
        if (single)
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(body));
            if (body.Length != binary.Length || !sha.StartsWith(binary.Sha256Prefix, StringComparison.Ordinal))
            {
                fail($"download not byte-identical to the upload: {body.Length} bytes sha256 {sha[..16]}, expected {binary.Length} bytes sha256 {binary.Sha256Prefix}");
            }

            return;
        }

        // A merge is re-encoded: the bytes differ from Go's, the profile must not.
        if (binary.Pprof is null)
        {
            fail("merged answer without a pprof summary in the transcript");
            return;
        }

        if (body.Length < 2 || body[0] != 0x1f || body[1] != 0x8b)
        {
            fail("merged profile is not gzip-compressed");
        }

        Profile profile;
        try
        {
            profile = ProfileDecoder.Decode(body);
        }
        catch (ProfileFormatException e)
        {
            fail("merged profile does not decode: " + e.Message);
            return;
        }

        foreach (var (key, expected) in Summarize(profile))
        {
            if (binary.Pprof.TryGetValue(key, out var recorded) && recorded != expected)
            {
                fail($"merged profile {key}={expected}, profefe's had {recorded}");
            }
        }
    }

    /// <summary>The fields of the transcript's pprof summary line, computed from a profile.</summary>
    internal static Dictionary<string, string> Summarize(Profile profile)
    {
        var totals = new long[profile.SampleTypes.Count];
        foreach (var sample in profile.Samples)
        {
            for (var i = 0; i < totals.Length && i < sample.Values.Length; i++)
            {
                totals[i] += sample.Values[i];
            }
        }

        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["period_type"] = profile.PeriodType?.ToString() ?? "",
            ["sample_types"] = string.Join(",", profile.SampleTypes.Select(t => t.ToString())),
            ["samples"] = profile.Samples.Count.ToString(CultureInfo.InvariantCulture),
            ["locations"] = profile.Locations.Count.ToString(CultureInfo.InvariantCulture),
            ["functions"] = profile.Functions.Count.ToString(CultureInfo.InvariantCulture),
            ["totals"] = "[" + string.Join(" ", totals.Select(t => t.ToString(CultureInfo.InvariantCulture))) + "]",
        };
    }

    private static void RecordSubstitutions(ContractExchange exchange, byte[] body, Dictionary<string, string> substitutions, DateTime started, Action<string> fail)
    {
        using var expected = JsonDocument.Parse(exchange.JsonBody!);
        using var actual = JsonDocument.Parse(body);
        var actualBody = actual.RootElement.GetProperty("body");
        substitutions[expected.RootElement.GetProperty("body").GetProperty("id").GetString()!] = actualBody.GetProperty("id").GetString()!;

        // 015 stores a trace without created_at: the server's clock decides, so compare with ours.
        if (exchange.Number == "015")
        {
            var createdAt = actualBody.GetProperty("created_at").GetString()!;
            var parsed = DateTime.Parse(createdAt, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
            if (parsed < started || parsed > DateTime.UtcNow.AddSeconds(1))
            {
                fail($"created_at {createdAt} is not the time of the request");
            }

            substitutions[expected.RootElement.GetProperty("body").GetProperty("created_at").GetString()!] = createdAt;
        }
    }

    private static ByteArrayContent? RequestContent(ContractBody body)
    {
        byte[] bytes;
        if (body.File == "truncated.prof")
        {
            // Not kept as a file: the first 5000 bytes of a gzip profile, cut mid-stream.
            bytes = TestData.Read("profefe/collector_cpu_1.prof")[..body.Length];
        }
        else if (body.File is { } file)
        {
            bytes = TestData.Read("profefe/" + file);
            Assert.Equal(body.Length, bytes.Length);
        }
        else if (body.Literal is { } literal)
        {
            bytes = Encoding.UTF8.GetBytes(literal);
        }
        else
        {
            return null;
        }

        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private static void CheckHeader(Action<string> fail, string name, string? expected, string? actual)
    {
        if ((expected ?? "") != (actual ?? ""))
        {
            fail($"{name} \"{actual}\", expected \"{expected}\"");
        }
    }

    private static string Substitute(string text, Dictionary<string, string> substitutions)
    {
        foreach (var (from, to) in substitutions)
        {
            text = text.Replace(from, to, StringComparison.Ordinal);
        }

        return text;
    }
}
