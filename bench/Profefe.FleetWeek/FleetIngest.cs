using System.Diagnostics;
using Profefe.Client;

namespace Profefe.FleetWeek;

/// <summary>Pushes the plan's profiles through <c>POST /api/0/profiles</c> from concurrent clients, in time order.</summary>
internal static class FleetIngest
{
    private const int ProgressEvery = 10_000;

    /// <exception cref="InvalidOperationException">a push failed: the week would not be what the checks expect.</exception>
    public static async Task<IngestResult> PushAsync(ProfefeClient client, string service, FleetPlan plan, int clients, Action<string> progress)
    {
        var latencies = new double[plan.Count];
        var next = -1;
        var done = 0;
        string? failure = null;
        var wall = Stopwatch.StartNew();

        async Task PushLoopAsync()
        {
            while (Volatile.Read(ref failure) is null)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= plan.Count)
                {
                    return;
                }

                var minute = i / plan.Pods;
                var pod = i % plan.Pods;
                ProfileLabel[] labels = [new("pod", FleetPlan.PodName(pod))];
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await client.PushProfileAsync(service, "cpu", labels, plan.ProfileOf(minute, pod).Body, FleetPlan.TimeOf(minute)).ConfigureAwait(false);
                }
                catch (ProfefeApiException e)
                {
                    // No retry: a push that timed out may still have been stored, and a second copy would break the totals.
                    Interlocked.CompareExchange(ref failure, $"push {i} (minute {minute}, pod {pod}) answered {(int)e.StatusCode}: {e.Message}", null);
                    return;
                }

                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (Interlocked.Increment(ref done) is var pushed && pushed % ProgressEvery == 0)
                {
                    progress($"  {pushed:N0} of {plan.Count:N0} pushed, {pushed / wall.Elapsed.TotalSeconds:N0}/s");
                }
            }
        }

        var loops = new Task[clients];
        for (var c = 0; c < clients; c++)
        {
            loops[c] = Task.Run(PushLoopAsync);
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        wall.Stop();
        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }

        Array.Sort(latencies);
        return new IngestResult(plan.Count, wall.Elapsed, Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies[^1]);
    }

    private static double Percentile(double[] sorted, double quantile) =>
        sorted[Math.Max(0, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
}

internal sealed record IngestResult(int Pushes, TimeSpan Wall, double P50Ms, double P99Ms, double MaxMs)
{
    public double PerSecond => Pushes / Wall.TotalSeconds;
}
