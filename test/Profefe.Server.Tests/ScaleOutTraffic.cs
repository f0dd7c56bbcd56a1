using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Server.Tests;

/// <summary>Real corpus profiles pushed to collectors, and the checks that every acknowledged one is there.</summary>
internal static class ScaleOutTraffic
{
    private const string Window = "from=2000-01-01T00:00:00&to=2100-01-01T00:00:00";

    // Ids per merge request: keeps the URL far below Kestrel's request-line limit.
    private const int MergeChunk = 100;

    public static readonly Upload[] Uploads =
    [
        Load("profefe/collector_cpu_1.prof", "cpu"),
        Load("profefe/collector_cpu_2.prof", "cpu"),
        Load("profefe/collector_heap_1.prof", "heap"),
    ];

    /// <summary>POST one profile; the caller disposes the answer.</summary>
    public static async Task<HttpResponseMessage> PushAsync(HttpClient client, string service, Upload upload, string labels, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(upload.Data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await client.PostAsync($"api/0/profiles?service={service}&type={upload.Type}&labels={labels}", content, cancellationToken);
    }

    /// <summary>The id in a 200 answer to a push.</summary>
    public static async Task<string> IdOfAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.GetProperty("body").GetProperty("id").GetString()!;
    }

    /// <summary>
    /// Through <paramref name="client"/>: every acknowledged profile is found, downloads byte-identical, and merges
    /// (by id, in chunks) to the sum of what was pushed. Profiles stored without an acknowledgement (the answer was
    /// lost) may be there too; they must decode.
    /// </summary>
    public static async Task VerifyAsync(HttpClient client, string service, IReadOnlyDictionary<string, Upload> acknowledged, CancellationToken cancellationToken)
    {
        using var find = await client.GetAsync($"api/0/profiles?service={service}&{Window}", cancellationToken);
        var findBody = await find.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(find.StatusCode == HttpStatusCode.OK, $"find answered {(int)find.StatusCode}: {findBody}");
        var found = new HashSet<string>(StringComparer.Ordinal);
        using (var json = JsonDocument.Parse(findBody))
        {
            foreach (var meta in json.RootElement.GetProperty("body").EnumerateArray())
            {
                found.Add(meta.GetProperty("id").GetString()!);
            }
        }

        var missing = acknowledged.Keys.Where(id => !found.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged profiles are not found: {string.Join(", ", missing.Take(10))}");

        foreach (var id in found)
        {
            var bytes = await client.GetByteArrayAsync("api/0/profiles/" + id, cancellationToken);
            if (acknowledged.TryGetValue(id, out var upload))
            {
                Assert.Equal(upload.Data, bytes);
            }
            else
            {
                ProfileDecoder.Decode(bytes);
            }
        }

        foreach (var type in acknowledged.Values.Select(u => u.Type).Distinct())
        {
            var ids = acknowledged.Where(p => p.Value.Type == type).Select(p => p.Key).ToList();
            for (var i = 0; i < ids.Count; i += MergeChunk)
            {
                var chunk = ids.GetRange(i, Math.Min(MergeChunk, ids.Count - i));
                using var merge = await client.GetAsync("api/0/profiles/" + string.Join('+', chunk), cancellationToken);
                var merged = await merge.Content.ReadAsByteArrayAsync(cancellationToken);
                Assert.True(merge.StatusCode == HttpStatusCode.OK, $"merge of {chunk.Count} {type} profiles answered {(int)merge.StatusCode}");
                Assert.Equal(chunk.Sum(id => acknowledged[id].Total), Total(ProfileDecoder.Decode(merged)));
            }
        }
    }

    /// <summary>The merge by query (service, type, time window) of every stored profile of <paramref name="type"/>.</summary>
    public static async Task<long> MergedTotalAsync(HttpClient client, string service, string type, CancellationToken cancellationToken)
    {
        using var merge = await client.GetAsync($"api/0/profiles/merge?service={service}&type={type}&{Window}", cancellationToken);
        var merged = await merge.Content.ReadAsByteArrayAsync(cancellationToken);
        Assert.True(merge.StatusCode == HttpStatusCode.OK, $"merge of {type} answered {(int)merge.StatusCode}");
        return Total(ProfileDecoder.Decode(merged));
    }

    /// <summary>Runs <paramref name="writers"/> tasks, each pushing with <paramref name="push"/> until stopped.</summary>
    public static Task[] StartWriters(int writers, Func<int, int, Task> push, CancellationToken stop) =>
        [.. Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    await push(w, i);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }, CancellationToken.None))];

    public static void Acknowledge(ConcurrentDictionary<string, Upload> acknowledged, string id, Upload upload) =>
        Assert.True(acknowledged.TryAdd(id, upload), $"id {id} was acknowledged twice");

    private static long Total(Profile profile) => profile.Samples.Sum(static s => s.Values[0]);

    private static Upload Load(string file, string type)
    {
        var data = TestData.Read(file);
        return new Upload(file, type, data, Total(ProfileDecoder.Decode(data)));
    }
}

/// <param name="Total">The sum of the first sample value, which a merge adds up.</param>
internal sealed record Upload(string File, string Type, byte[] Data, long Total);
