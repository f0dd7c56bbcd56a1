using System.IO.Compression;
using System.Text;

namespace Profefe.Server.Tests.Fuzz;

/// <summary>
/// Turns a valid request into a broken one, deterministically from its <see cref="Random"/>: bit flips, truncation,
/// spliced chunks and bad UTF-8 in the body (inside the gzip when the body is gzip, so the damage reaches the
/// parser and not only the CRC), huge and negative numbers, out-of-range dates and bad percent-encoding in the
/// query, wrong or missing content types and encodings, gzip bombs within and just past the limit, sample and
/// stack bombs, and hostile header values.
/// </summary>
internal sealed class RequestMutator(Random random, FuzzBombs bombs)
{
    private static readonly string[] OddValues =
    [
        "", "-1", "0", "1", "-9223372036854775808", "9223372036854775807", "99999999999999999999999999", "1e308", "-1e308", "NaN", "Infinity",
        "0001-01-01T00:00:00", "9999-12-31T23:59:59", "10000-01-01T00:00:00", "-292277022657-01-27T08:29:52Z", "1970-01-01T00:00:00",
        "now", "now-1000000000y", "now+1h", "%ff%fe", "%c0%80", "%ed%a0%80", "%", "%z", "%zz", "%00", "%0a%0d", "%7B%7D", "%7B", "%22", "a=b=c",
        "%7Bservice_name%3D~%22(%22%7D", "%7Bservice_name%3D%22fuzz%22,pod!~%22.*%22%7D", "..", "..%2F..%2Fetc%2Fpasswd", "%E2%82%AC%F0%9F%98%80",
        "+", "++", ",", "=", ";", "process_cpu:cpu:nanoseconds:cpu:nanoseconds%7B%7D", "cpu", "heap", "trace", "other", "json", "pprof", "dot",
    ];

    private static readonly string?[] ContentTypes =
    [
        null, "application/json", "application/proto", "application/x-protobuf", "application/octet-stream", "text/plain", "text/plain; charset=utf-16",
        "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=zzz", "application/x-www-form-urlencoded",
        "application/json; charset=latin1", "garbage/;;;", "application/grpc", "application/connect+proto",
    ];

    private static readonly string[] Encodings = ["gzip", "br", "deflate", "identity", "x-unknown", "gzip, gzip", ""];

    private static readonly (string Name, string[] Values)[] HostileHeaders =
    [
        ("X-Scope-OrgID", ["", "tenant-b", "..", ".", "a/b", "a b", new string('t', 200), "anonymous", "a|b"]),
        ("Idempotency-Key", ["", "k", "key with space", new string('k', 300), "\u007f", "fuzz-key"]),
        ("Authorization", ["Bearer", "Bearer x", "Basic !!!", "Basic " + Convert.ToBase64String("a:b"u8.ToArray()), "Basic " + Convert.ToBase64String("::"u8.ToArray()), "Digest x"]),
        ("Origin", ["http://evil.example", "null"]),
    ];

    public FuzzRequest Mutate(FuzzRequest seed)
    {
        var request = seed;
        var applied = new List<string>();
        var count = 1 + random.Next(3);
        for (var i = 0; i < count; i++)
        {
            var choice = random.Next(100);
            (request, var name) = choice switch
            {
                < 45 when request.Body is { Length: > 0 } => MutateBody(request),
                < 80 => MutateQuery(request),
                < 90 => MutateContentHeaders(request),
                _ => AddHostileHeader(request),
            };
            applied.Add(name);
        }

        return request with { Mutations = string.Join("; ", applied) };
    }

    private (FuzzRequest, string) MutateBody(FuzzRequest request)
    {
        var body = request.Body!;
        var choice = random.Next(100);
        if (choice < 8)
        {
            var bomb = random.Next(3) switch
            {
                0 => bombs.GzipWithinLimit,
                1 => bombs.GzipPastLimit,
                _ => bombs.GzipOfValidJunk,
            };
            // Connect inflates a gzip body only when told so by Content-Encoding; elsewhere the pprof decoder inflates it.
            var headers = request.IsConnect ? [.. request.Headers, new("Content-Encoding", "gzip")] : request.Headers;
            return (request with { Body = bomb, Headers = headers }, $"gzip bomb of {bomb.Length} bytes");
        }

        if (choice < 14 && !request.IsConnect)
        {
            var (bomb, what) = random.Next(3) switch
            {
                0 => (bombs.SampleBombPastLimit, "sample bomb past the limit"),
                1 => (bombs.SampleBombWithinLimit, "sample bomb within the limit"),
                _ => (bombs.DeepStack, "deep stack"),
            };
            return (request with { Body = bomb }, what);
        }

        if (choice < 40 && TryGunzip(body) is { } plain)
        {
            var (inner, what) = MutateBytes(plain);
            return (request with { Body = Gzip(inner) }, "inside gzip: " + what);
        }

        if (choice < 55 && LooksLikeText(body))
        {
            var (text, what) = MutateNumbersInText(Encoding.UTF8.GetString(body));
            return (request with { Body = Encoding.UTF8.GetBytes(text) }, what);
        }

        var (mutated, name) = MutateBytes(body);
        return (request with { Body = mutated }, name);
    }

    private (byte[], string) MutateBytes(byte[] body)
    {
        if (body.Length == 0)
        {
            return (RandomBytes(1 + random.Next(64)), "random bytes");
        }

        var copy = (byte[])body.Clone();
        switch (random.Next(9))
        {
            case 0:
                var flips = 1 + random.Next(16);
                for (var i = 0; i < flips; i++)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (copy, $"{flips} bit flips");
            case 1:
                var length = random.Next(copy.Length);
                return (copy[..length], $"truncated to {length}");
            case 2:
                byte[] interesting = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe];
                var writes = 1 + random.Next(8);
                for (var i = 0; i < writes; i++)
                {
                    copy[random.Next(copy.Length)] = interesting[random.Next(interesting.Length)];
                }

                return (copy, $"{writes} interesting bytes");
            case 3:
                var (start, chunk) = Chunk(copy.Length);
                return ([.. copy[..(start + chunk)], .. copy[start..(start + chunk)], .. copy[(start + chunk)..]], $"chunk of {chunk} duplicated");
            case 4:
                var (from, size) = Chunk(copy.Length);
                return ([.. copy[..from], .. copy[(from + size)..]], $"chunk of {size} deleted");
            case 5:
                var at = random.Next(copy.Length + 1);
                byte[] badUtf8 = random.Next(4) switch
                {
                    0 => [0xff, 0xfe],
                    1 => [0xc0, 0x80],
                    2 => [0xed, 0xa0, 0x80],
                    _ => [0xf4, 0x90, 0x80, 0x80],
                };
                return ([.. copy[..at], .. badUtf8, .. copy[at..]], "bad UTF-8 inserted");
            case 6:
                // A varint of ten 0xff bytes: the largest field number or length protobuf can carry, and then some.
                var where = random.Next(copy.Length + 1);
                return ([.. copy[..where], .. Enumerable.Repeat((byte)0xff, 10), 0x01, .. copy[where..]], "huge varint inserted");
            case 7:
                return ([], "empty body");
            default:
                var insertAt = random.Next(copy.Length + 1);
                return ([.. copy[..insertAt], .. RandomBytes(1 + random.Next(256)), .. copy[insertAt..]], "random bytes inserted");
        }
    }

    private (string, string) MutateNumbersInText(string text)
    {
        var digits = new List<int>();
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsAsciiDigit(text[i]) && (i == 0 || !char.IsAsciiDigit(text[i - 1])))
            {
                digits.Add(i);
            }
        }

        if (digits.Count == 0 || random.Next(4) == 0)
        {
            var at = random.Next(text.Length + 1);
            var junk = random.Next(4) switch
            {
                0 => "\"",
                1 => "{",
                2 => "\u0000",
                _ => new string('[', 100),
            };
            return (text[..at] + junk + text[at..], "JSON/text syntax broken");
        }

        var start = digits[random.Next(digits.Count)];
        var end = start;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        string[] numbers = ["-1", "0", "9223372036854775807", "-9223372036854775808", "99999999999999999999999999", "1e308", "-0", "1.5", "0x10"];
        var number = numbers[random.Next(numbers.Length)];
        return (text[..start] + number + text[end..], $"number {text[start..end]} -> {number}");
    }

    private (FuzzRequest, string) MutateQuery(FuzzRequest request)
    {
        var question = request.PathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? request.PathAndQuery : request.PathAndQuery[..question];
        var pairs = question < 0 ? [] : request.PathAndQuery[(question + 1)..].Split('&').ToList();
        if (request.Route == "/api/0/profiles/{**rest}" && path.Length > "/api/0/profiles/".Length && random.Next(3) == 0)
        {
            return (request with { PathAndQuery = MutateIdPath(path) + (question < 0 ? "" : request.PathAndQuery[question..]) }, "ids in the path");
        }

        string name;
        switch (pairs.Count == 0 ? 0 : random.Next(6))
        {
            case 0:
                var added = RandomName() + "=" + OddValues[random.Next(OddValues.Length)];
                pairs.Add(added);
                name = "parameter added: " + added;
                break;
            case 1 or 2:
                var index = random.Next(pairs.Count);
                var key = pairs[index].Split('=')[0];
                var value = random.Next(5) == 0 ? new string('a', 1 + random.Next(4000)) : OddValues[random.Next(OddValues.Length)];
                pairs[index] = key + "=" + value;
                name = $"{key}={(value.Length > 40 ? value[..40] + "…" : value)}";
                break;
            case 3:
                var removed = random.Next(pairs.Count);
                name = "parameter removed: " + pairs[removed].Split('=')[0];
                pairs.RemoveAt(removed);
                break;
            case 4:
                var duplicated = pairs[random.Next(pairs.Count)];
                pairs.Add(duplicated.Split('=')[0] + "=" + OddValues[random.Next(OddValues.Length)]);
                name = "parameter repeated: " + duplicated.Split('=')[0];
                break;
            default:
                var all = string.Join('&', pairs);
                var at = random.Next(all.Length + 1);
                string[] junk = ["&", "=", "%", "&&&", "#", "%2", "?", "\\"];
                var inserted = junk[random.Next(junk.Length)];
                pairs = [all[..at] + inserted + all[at..]];
                name = "query syntax: " + inserted;
                break;
        }

        return (request with { PathAndQuery = path + "?" + string.Join('&', pairs) }, name);
    }

    private string MutateIdPath(string path)
    {
        var ids = path["/api/0/profiles/".Length..];
        string[] replacements = ["+", "a++b", ids + "+", "+" + ids, ids + "+" + ids, ids.ToUpperInvariant(), "..%2F..", new string('0', 2000), "%00", ids[..^1], ids + "0", "%ff"];
        if (random.Next(2) == 0 && ids.Length > 0)
        {
            var chars = ids.ToCharArray();
            chars[random.Next(chars.Length)] = "0zZ-_!~."[random.Next(8)];
            return "/api/0/profiles/" + new string(chars);
        }

        return "/api/0/profiles/" + replacements[random.Next(replacements.Length)];
    }

    private (FuzzRequest, string) MutateContentHeaders(FuzzRequest request)
    {
        if (random.Next(3) == 0)
        {
            var encoding = Encodings[random.Next(Encodings.Length)];
            return (request with { Headers = [.. request.Headers, new("Content-Encoding", encoding)] }, "Content-Encoding: " + encoding);
        }

        var type = ContentTypes[random.Next(ContentTypes.Length)];
        return (request with { ContentType = type, Body = request.Body ?? [] }, "Content-Type: " + (type ?? "none"));
    }

    private (FuzzRequest, string) AddHostileHeader(FuzzRequest request)
    {
        var (name, values) = HostileHeaders[random.Next(HostileHeaders.Length)];
        var value = values[random.Next(values.Length)];
        return (request with { Headers = [.. request.Headers, new(name, value)] }, $"{name}: {(value.Length > 20 ? value[..20] + "…" : value)}");
    }

    private string RandomName()
    {
        string[] names = ["service", "type", "from", "to", "labels", "limit", "step", "query", "until", "name", "format", "id", "focus", "max_nodes", "x", ""];
        return names[random.Next(names.Length)];
    }

    private (int Start, int Length) Chunk(int length)
    {
        var start = random.Next(length);
        return (start, 1 + random.Next(Math.Min(1024, length - start)));
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }


    private static bool LooksLikeText(byte[] body) => body.Length > 0 && body[0] is (byte)'{' or (byte)'[' or (byte)'m' or (byte)'-';

    /// <summary>The inflated body, or null when it is not (or no longer, after an earlier mutation) gzip.</summary>
    private static byte[]? TryGunzip(byte[] data)
    {
        if (data.Length < 3 || data[0] != 0x1f || data[1] != 0x8b)
        {
            return null;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
            using var inflated = new MemoryStream();
            gzip.CopyTo(inflated);
            return inflated.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            return null;
        }
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var deflated = new MemoryStream();
        using (var gzip = new GZipStream(deflated, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return deflated.ToArray();
    }
}
