using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Profefe.Cli.Scrape;

/// <summary>
/// Counts takes and pushes per target and profile type, for the summary and for the "Profefe.Cli.Scrape" meter
/// (readable with dotnet-counters or any OpenTelemetry listener).
/// </summary>
internal sealed class ScrapeStats : IDisposable
{
    public const string MeterName = "Profefe.Cli.Scrape";

    private readonly ConcurrentDictionary<(string Target, string Profile), TargetCounters> _counters = new();
    private readonly Meter _meter;
    private readonly Counter<long> _takes;
    private readonly Counter<long> _pushes;
    private readonly Counter<long> _bytes;

    public ScrapeStats()
    {
        _meter = new Meter(MeterName);
        _takes = _meter.CreateCounter<long>("profefe.scrape.takes", description: "Profiles requested from targets, by outcome (ok, failed, empty)");
        _pushes = _meter.CreateCounter<long>("profefe.scrape.pushes", description: "Pushes to the collector, by outcome (ok, failed, retried)");
        _bytes = _meter.CreateCounter<long>("profefe.scrape.bytes", unit: "By", description: "Profile bytes pushed");
    }

    public TargetCounters For(ScrapeTarget target, PprofEndpoint endpoint) =>
        _counters.GetOrAdd((target.BaseUrl.AbsoluteUri, endpoint.Name), static _ => new TargetCounters());

    public void TakeSucceeded(ScrapeTarget target, PprofEndpoint endpoint) => Count(target, endpoint, _takes, "ok", c => Interlocked.Increment(ref c.Taken));

    public void TakeFailed(ScrapeTarget target, PprofEndpoint endpoint) => Count(target, endpoint, _takes, "failed", c => Interlocked.Increment(ref c.TakeFailures));

    public void TakeEmpty(ScrapeTarget target, PprofEndpoint endpoint) => Count(target, endpoint, _takes, "empty", c => Interlocked.Increment(ref c.Empty));

    public void PushRetried(ScrapeTarget target, PprofEndpoint endpoint) => Count(target, endpoint, _pushes, "retried", c => Interlocked.Increment(ref c.PushRetries));

    public void PushFailed(ScrapeTarget target, PprofEndpoint endpoint) => Count(target, endpoint, _pushes, "failed", c => Interlocked.Increment(ref c.PushFailures));

    public void PushSucceeded(ScrapeTarget target, PprofEndpoint endpoint, long bytes)
    {
        Count(target, endpoint, _pushes, "ok", c =>
        {
            Interlocked.Increment(ref c.Pushed);
            Interlocked.Add(ref c.Bytes, bytes);
        });
        _bytes.Add(bytes, new KeyValuePair<string, object?>("target", target.BaseUrl.AbsoluteUri), new KeyValuePair<string, object?>("type", endpoint.Name));
    }

    /// <summary>Drops the counters of a target that is no longer scraped.</summary>
    public void Forget(Uri baseUrl)
    {
        foreach (var key in _counters.Keys)
        {
            if (key.Target == baseUrl.AbsoluteUri)
            {
                _counters.TryRemove(key, out _);
            }
        }
    }

    /// <summary>One line per target and profile, sorted.</summary>
    public IReadOnlyList<string> Summary()
    {
        var keys = _counters.Keys.ToList();
        keys.Sort((a, b) => a.Target != b.Target ? string.CompareOrdinal(a.Target, b.Target) : string.CompareOrdinal(a.Profile, b.Profile));
        var lines = new List<string>(keys.Count);
        foreach (var key in keys)
        {
            var c = _counters[key];
            lines.Add($"{key.Target} {key.Profile}: taken {c.Taken}, pushed {c.Pushed}, take failures {c.TakeFailures}, push failures {c.PushFailures}, push retries {c.PushRetries}, empty {c.Empty}, bytes {c.Bytes}");
        }

        return lines;
    }

    public void Dispose() => _meter.Dispose();

    private void Count(ScrapeTarget target, PprofEndpoint endpoint, Counter<long> counter, string outcome, Action<TargetCounters> update)
    {
        update(For(target, endpoint));
        counter.Add(
            1,
            new KeyValuePair<string, object?>("target", target.BaseUrl.AbsoluteUri),
            new KeyValuePair<string, object?>("type", endpoint.Name),
            new KeyValuePair<string, object?>("outcome", outcome));
    }
}

/// <summary>Counters of one target and profile type; fields so they can be updated with Interlocked.</summary>
internal sealed class TargetCounters
{
#pragma warning disable SA1401, CA1051 // Interlocked needs fields.
    public long Taken;
    public long TakeFailures;
    public long Empty;
    public long Pushed;
    public long PushFailures;
    public long PushRetries;
    public long Bytes;
#pragma warning restore SA1401, CA1051
}
