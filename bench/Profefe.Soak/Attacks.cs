using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net.Sockets;
using System.Text;

namespace Profefe.Soak;

/// <summary>
/// Issue 16's attacks, each run for its share of the soak by the "attacker" tenant: floods, slow uploads and idle
/// connections, huge bodies, gzip bombs, sample bombs, deep stacks, label cardinality, expensive merges and queries,
/// bad tokens and foreign origins, poisoning by a profile of the wrong type.
/// </summary>
internal static class Attacks
{
    public delegate Task<string> Attack(HttpClient http, RequestTally tally, TimeSpan duration);

    private const string Range = "from=2000-01-01T00:00:00&to=2100-01-01T00:00:00";
    private const int MaxBody = 32 << 20;

    public static List<(string Name, Attack Run)> All(Uri url)
    {
        var small = TestFiles.Read("cpu_hash_01.pb.gz");
        var heap = TestFiles.Read("heap_01.pb.gz");
        return
        [
            ("flood: 32 clients pushing small profiles as fast as they can", (http, tally, duration) =>
                LoopAsync(32, duration, tally, _ => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=flood&type=cpu", small))),
            ("slow uploads and idle connections: 47 uploads declaring 32 MiB sent at 512 B/s, 1,000 idle and half-sent requests",
                (_, tally, duration) => SlowAsync(url, tally, duration)),
            ("huge bodies: 50 clients uploading 32 MiB at full speed", (http, tally, duration) =>
            {
                var junk = new byte[MaxBody - 1024];
                new Random(16).NextBytes(junk);
                return LoopAsync(50, duration, tally, _ => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=huge&type=cpu", junk));
            }),
            ("gzip bombs: 8 clients sending gzip that inflates past 64 MiB, and to 4 M empty samples", (http, tally, duration) =>
            {
                var zeros = Gzip(new byte[(64 << 20) + 1]);
                var emptySamples = new byte[8 << 20];
                for (var i = 0; i < emptySamples.Length; i += 2)
                {
                    emptySamples[i] = 0x12;
                }

                var samples = Gzip(emptySamples);
                return LoopAsync(8, duration, tally, n => (n % 3) switch
                {
                    0 => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=gzip&type=cpu", zeros),
                    1 => SendAsync(http, HttpMethod.Post, "ingest?name=gzip.cpu&format=pprof", samples),
                    _ => SendAsync(http, HttpMethod.Post, "push.v1.PusherService/Push", zeros, "application/proto", ("Content-Encoding", "gzip")),
                });
            }),
            ("sample bombs: profiles of 99,999 samples (and 100,001) pushed, then viewed and merged by 8 clients", async (http, tally, duration) =>
            {
                var within = TestFiles.Bomb(99_999, 0);
                var past = TestFiles.Bomb(100_001, 0);
                var stored = 0;
                for (var i = 0; i < 5; i++)
                {
                    stored += await SendAsync(http, HttpMethod.Post, "api/0/profiles?service=bomb&type=cpu", within) == 200 ? 1 : 0;
                }

                await LoopAsync(8, duration, tally, n => (n % 4) switch
                {
                    0 => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=bomb&type=cpu", past),
                    1 => SendAsync(http, HttpMethod.Get, $"api/0/profiles/merge?service=bomb&type=cpu&{Range}"),
                    2 => SendAsync(http, HttpMethod.Get, $"api/ui/profile?service=bomb&type=cpu&{Range}"),
                    _ => SendAsync(http, HttpMethod.Get, $"api/ui/flame?service=bomb&type=cpu&{Range}"),
                });
                return $"{stored} of 5 bombs within the limit stored ({within.Length >> 10} KiB each)";
            }),
            ("deep stacks: 1,000-frame stacks pushed and merged, 1,100-frame ones refused", (http, tally, duration) =>
            {
                var deep = TestFiles.Bomb(2_000, 1_000);
                var tooDeep = TestFiles.Bomb(10, 1_100);
                return LoopAsync(8, duration, tally, n => (n % 3) switch
                {
                    0 => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=deep&type=cpu", deep),
                    1 => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=deep&type=cpu", tooDeep),
                    _ => SendAsync(http, HttpMethod.Get, $"api/0/profiles/merge?service=deep&type=cpu&{Range}"),
                });
            }),
            ("label cardinality: pushes with 30 labels of fresh values (and 31), label listings", (http, tally, duration) =>
                LoopAsync(16, duration, tally, n =>
                {
                    if (n % 10 == 9)
                    {
                        return SendAsync(http, HttpMethod.Get, "api/0/labels");
                    }

                    var count = n % 10 == 8 ? 31 : 30;
                    var labels = string.Join(',', Enumerable.Range(0, count).Select(k => $"k{k}=v{n}-{k}"));
                    return SendAsync(http, HttpMethod.Post, $"api/0/profiles?service=labels&type=cpu&labels={labels}", small);
                })),
            ("expensive merges and queries: 64 clients merging the flood's profiles through profefe, Pyroscope and the UI", (http, tally, duration) =>
            {
                var selectMerge = Encoding.UTF8.GetBytes(
                    "{\"profileTypeID\":\"process_cpu:cpu:nanoseconds:cpu:nanoseconds\",\"labelSelector\":\"{service_name=\\\"flood\\\"}\",\"start\":\"0\",\"end\":\"4102444800000\"}");
                return LoopAsync(64, duration, tally, n => (n % 4) switch
                {
                    0 => SendAsync(http, HttpMethod.Get, $"api/0/profiles/merge?service=flood&type=cpu&{Range}"),
                    1 => SendAsync(http, HttpMethod.Post, "querier.v1.QuerierService/SelectMergeStacktraces", selectMerge, "application/json"),
                    2 => SendAsync(http, HttpMethod.Get, $"api/0/timeseries?service=flood&type=cpu&{Range}&step=60"),
                    _ => SendAsync(http, HttpMethod.Get, $"api/ui/profile?service=flood&type=cpu&{Range}"),
                });
            }),
            ("bad tokens, foreign origins and hosts: 16 clients", (http, tally, duration) =>
                LoopAsync(16, duration, tally, n => (n % 4) switch
                {
                    0 => SendAsync(http, HttpMethod.Get, "api/0/services", null, null, ("Authorization", "Bearer not-a-token")),
                    1 => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=csrf&type=cpu", small, null, ("Authorization", "Basic " + Convert.ToBase64String("x:y"u8.ToArray()))),
                    2 => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=csrf&type=cpu", small, null, ("Origin", "http://evil.example")),
                    _ => SendAsync(http, HttpMethod.Get, "api/0/services", null, null, ("Host", "rebind.evil.example")),
                })),
            ("poisoning: heap profiles pushed as type=cpu, and cpu profiles with a mutated sample type name, beside merges of that service", (http, tally, duration) =>
            {
                var mutated = TestFiles.MutatedSampleType();
                return LoopAsync(6, duration, tally, n => (n % 3) switch
                {
                    0 => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=flood&type=cpu", heap),
                    1 => SendAsync(http, HttpMethod.Post, "api/0/profiles?service=flood&type=cpu", mutated),
                    _ => SendAsync(http, HttpMethod.Get, $"api/0/profiles/merge?service=flood&type=cpu&{Range}"),
                });
            }),
        ];
    }

    private static async Task<string> LoopAsync(int clients, TimeSpan duration, RequestTally tally, Func<int, Task<int>> send)
    {
        var deadline = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (deadline.Elapsed < duration)
            {
                var clock = Stopwatch.StartNew();
                int status;
                try
                {
                    status = await send(Interlocked.Increment(ref next));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    status = 0;
                }

                tally.Record(status, clock.Elapsed);
            }
        })));
        return "";
    }

    private static async Task<int> SendAsync(HttpClient http, HttpMethod method, string path, byte[]? body = null, string? type = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = SoakRun.Binary(body, type ?? "application/octet-stream");
        }

        foreach (var (name, value) in headers)
        {
            if (name.StartsWith("Content-", StringComparison.Ordinal))
            {
                request.Content!.Headers.Add(name, value);
            }
            else if (name == "Host")
            {
                request.Headers.Host = value;
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.Content.CopyToAsync(Stream.Null);
        return (int)response.StatusCode;
    }

    /// <summary>Raw sockets: uploads that trickle, connections that send nothing, requests whose headers never end.</summary>
    private static async Task<string> SlowAsync(Uri url, RequestTally tally, TimeSpan duration)
    {
        var attack = Stopwatch.StartNew();
        var sockets = new List<TcpClient>();
        var refused = 0;
        for (var i = 0; i < 1_000; i++)
        {
            var socket = new TcpClient();
            try
            {
                await socket.ConnectAsync(url.Host, url.Port);
                if (i % 2 == 1)
                {
                    await socket.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET /api/0/services HTTP/1.1\r\nHost: {url.Authority}\r\nX-Slow: "));
                }

                sockets.Add(socket);
            }
            catch (SocketException)
            {
                refused++;
                socket.Dispose();
            }
        }

        var header = Encoding.ASCII.GetBytes(
            $"POST /api/0/profiles?service=slow&type=cpu HTTP/1.1\r\nHost: {url.Authority}\r\nX-Scope-OrgID: attacker\r\n" +
            $"Content-Type: application/octet-stream\r\nContent-Length: {MaxBody.ToString(CultureInfo.InvariantCulture)}\r\n\r\n");
        var chunk = new byte[512];
        var closedEarly = 0;
        await Task.WhenAll(Enumerable.Range(0, 47).Select(_ => Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            using var socket = new TcpClient();
            var status = 0;
            try
            {
                await socket.ConnectAsync(url.Host, url.Port);
                var stream = socket.GetStream();
                await stream.WriteAsync(header);
                while (clock.Elapsed < duration)
                {
                    await stream.WriteAsync(chunk);
                    await Task.Delay(1000);
                }

                status = -1;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                Interlocked.Increment(ref closedEarly);
                status = ReadStatus(socket);
            }

            tally.Record(status == -1 ? 0 : status, clock.Elapsed);
        })));
        // The idle connections are held for the attack's whole share, even when the collector cut the uploads early.
        var left = duration - attack.Elapsed;
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }

        // Closed by the collector: readable with nothing to read (end of stream), or a 408 waiting to be read.
        var closedByCollector = sockets.Count(s => !s.Connected || s.Client.Poll(0, SelectMode.SelectRead));
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        return $"{sockets.Count} idle/half-sent connections accepted ({refused} refused at connect, by design past Collector:MaxConnections); " +
            $"{closedByCollector} of them closed by the collector before the attack ended (KeepAliveTimeout, RequestHeadersTimeout), {sockets.Count - closedByCollector} still open; " +
            $"{closedEarly} of 47 slow uploads cut off by the collector (none: still trickling at the end)";
    }

    private static int ReadStatus(TcpClient socket)
    {
        try
        {
            if (socket.Client.Available == 0)
            {
                return 0;
            }

            var buffer = new byte[64];
            var read = socket.Client.Receive(buffer);
            var line = Encoding.ASCII.GetString(buffer, 0, read);
            return line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(9, 3), CultureInfo.InvariantCulture, out var status) ? status : 0;
        }
        catch (SocketException)
        {
            return 0;
        }
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
