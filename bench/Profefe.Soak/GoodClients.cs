using System.Collections.Concurrent;
using System.Diagnostics;

namespace Profefe.Soak;

/// <summary>
/// A well-behaved fleet in the default tenant: 4 pushers (a profile every 100 ms each, profefe's API) and 2
/// readers (a find, a merge of the last pushed profiles by id, the UI's service list, every 200 ms each).
/// </summary>
internal sealed class GoodClients(HttpClient http, List<byte[]> corpus)
{
    public ConcurrentBag<(string Id, int File)> Acknowledged { get; } = [];

    public RequestTally Pushes { get; } = new();

    public RequestTally Queries { get; } = new();

    public static async Task<(int Status, string Id)> PushAsync(HttpClient http, byte[] data, CancellationToken cancellationToken)
    {
        using var content = SoakRun.Binary(data);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/0/profiles?service={SoakRun.GoodService}&type=cpu&labels=client=good") { Content = content };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        using var response = await http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return ((int)response.StatusCode, response.IsSuccessStatusCode ? SoakRun.IdOf(text) : text);
    }

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll([.. Enumerable.Range(0, 4).Select(i => PushLoopAsync(i, stop)), .. Enumerable.Range(0, 2).Select(_ => QueryLoopAsync(stop))]);

    private async Task PushLoopAsync(int client, CancellationToken stop)
    {
        for (var n = client; !stop.IsCancellationRequested; n += 4)
        {
            var file = n % corpus.Count;
            var clock = Stopwatch.StartNew();
            var status = 0;
            try
            {
                (status, var id) = await PushAsync(http, corpus[file], CancellationToken.None);
                if (status == 200)
                {
                    Acknowledged.Add((id, file));
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = 0;
            }

            Pushes.Record(status, clock.Elapsed);
            await PauseAsync(100, stop);
        }
    }

    private async Task QueryLoopAsync(CancellationToken stop)
    {
        var round = 0;
        while (!stop.IsCancellationRequested)
        {
            // Some recently acknowledged ids (a bag keeps no order, but each thread's latest come first).
            var latest = Acknowledged.Take(5).Select(a => a.Id).ToArray();
            var path = (round++ % 3) switch
            {
                // created_at is the profile's own time (the corpus's), not the push's: the range spans every year.
                0 => $"api/0/profiles?service={SoakRun.GoodService}&type=cpu&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00&limit=50",
                1 when latest.Length > 0 => "api/0/profiles/" + string.Join('+', latest),
                _ => "api/ui/services",
            };
            var clock = Stopwatch.StartNew();
            int status;
            try
            {
                using var response = await http.GetAsync(path, CancellationToken.None);
                await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                status = (int)response.StatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = 0;
            }

            Queries.Record(status, clock.Elapsed);
            await PauseAsync(200, stop);
        }
    }

    private static async Task PauseAsync(int milliseconds, CancellationToken stop)
    {
        try
        {
            await Task.Delay(milliseconds, stop);
        }
        catch (OperationCanceledException)
        {
            // The soak is over.
        }
    }
}
