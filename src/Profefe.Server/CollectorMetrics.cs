using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Profefe.Server;

/// <summary>
/// Request counts, durations and sizes by path and status code, kept in memory and written in the
/// Prometheus text exposition format (version 0.0.4) for /debug/metrics. Also counts refusals by the limit that
/// caused them, and the connections Kestrel refused (from its own "kestrel.rejected_connections" instrument).
/// </summary>
internal sealed class CollectorMetrics : IDisposable
{
    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] SizeBuckets = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

    private readonly Lock _lock = new();
    private readonly SortedDictionary<(string Path, int Code), Series> _series = new();
    private readonly Dictionary<string, long> _profilesCollected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _refusals = new(StringComparer.Ordinal);
    private readonly MeterListener? _kestrel;
    private long _rejectedConnections;

    /// <param name="meterFactory">This host's meters; Kestrel's are read only when they come from it, not from other hosts in the process.</param>
    public CollectorMetrics(IMeterFactory? meterFactory = null)
    {
        if (meterFactory is null)
        {
            return;
        }

        _kestrel = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "kestrel.rejected_connections" && ReferenceEquals(instrument.Meter.Scope, meterFactory))
                {
                    listener.EnableMeasurementEvents(instrument, this);
                }
            },
        };
        _kestrel.SetMeasurementEventCallback<long>(static (_, value, _, state) => Interlocked.Add(ref ((CollectorMetrics)state!)._rejectedConnections, value));
        _kestrel.Start();
    }

    public long RejectedConnections => Interlocked.Read(ref _rejectedConnections);

    /// <summary>Counts a request refused because of <paramref name="limit"/> (its configuration key).</summary>
    public void RecordRefusal(string limit)
    {
        lock (_lock)
        {
            _refusals[limit] = _refusals.GetValueOrDefault(limit) + 1;
        }
    }

    public void Dispose() => _kestrel?.Dispose();

    public void RecordRequest(string path, int code, double durationSeconds, long requestBytes, long responseBytes)
    {
        lock (_lock)
        {
            if (!_series.TryGetValue((path, code), out var series))
            {
                series = new Series();
                _series.Add((path, code), series);
            }

            series.Count++;
            series.Duration.Observe(durationSeconds);
            series.RequestSize.Observe(requestBytes);
            series.ResponseSize.Observe(responseBytes);
        }
    }

    public void RecordProfileCollected(string type)
    {
        lock (_lock)
        {
            _profilesCollected[type] = _profilesCollected.GetValueOrDefault(type) + 1;
        }
    }

    /// <param name="storedProfiles">Profiles in the store, or null when the store could not tell.</param>
    /// <param name="storeBytes">Bytes the store occupies, or null when unknown.</param>
    public string Render(long? storedProfiles, long? storeBytes)
    {
        var text = new StringBuilder(4096);
        lock (_lock)
        {
            text.Append("# HELP profefe_http_requests_total HTTP requests by path and status code.\n");
            text.Append("# TYPE profefe_http_requests_total counter\n");
            foreach (var ((path, code), series) in _series)
            {
                text.Append("profefe_http_requests_total{path=\"").Append(EscapeLabel(path)).Append("\",code=\"")
                    .Append(code.ToString(CultureInfo.InvariantCulture)).Append("\"} ")
                    .Append(series.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            AppendHistograms(text, "profefe_http_request_duration_seconds", "HTTP request durations in seconds by path and status code.", static s => s.Duration);
            AppendHistograms(text, "profefe_http_request_size_bytes", "HTTP request body sizes in bytes by path and status code.", static s => s.RequestSize);
            AppendHistograms(text, "profefe_http_response_size_bytes", "HTTP response body sizes in bytes by path and status code.", static s => s.ResponseSize);

            text.Append("# HELP profefe_profiles_collected_total Profiles stored by this process since it started, by type.\n");
            text.Append("# TYPE profefe_profiles_collected_total counter\n");
            foreach (var (type, count) in _profilesCollected.OrderBy(static p => p.Key, StringComparer.Ordinal))
            {
                text.Append("profefe_profiles_collected_total{type=\"").Append(EscapeLabel(type)).Append("\"} ")
                    .Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append("# HELP profefe_limit_refusals_total Requests refused because they exceeded a limit, by its configuration key.\n");
            text.Append("# TYPE profefe_limit_refusals_total counter\n");
            foreach (var (limit, count) in _refusals.OrderBy(static p => p.Key, StringComparer.Ordinal))
            {
                text.Append("profefe_limit_refusals_total{limit=\"").Append(EscapeLabel(limit)).Append("\"} ")
                    .Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append("# HELP profefe_rejected_connections_total Connections refused because Collector:MaxConnections were open.\n");
            text.Append("# TYPE profefe_rejected_connections_total counter\n");
            text.Append("profefe_rejected_connections_total ").Append(RejectedConnections.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (storedProfiles is { } profiles)
        {
            text.Append("# HELP profefe_profiles_stored Profiles currently in the store.\n");
            text.Append("# TYPE profefe_profiles_stored gauge\n");
            text.Append("profefe_profiles_stored ").Append(profiles.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (storeBytes is { } bytes)
        {
            text.Append("# HELP profefe_store_size_bytes Bytes the store occupies on disk.\n");
            text.Append("# TYPE profefe_store_size_bytes gauge\n");
            text.Append("profefe_store_size_bytes ").Append(bytes.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    private void AppendHistograms(StringBuilder text, string name, string help, Func<Series, Histogram> select)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" histogram\n");
        foreach (var ((path, code), series) in _series)
        {
            var labels = "path=\"" + EscapeLabel(path) + "\",code=\"" + code.ToString(CultureInfo.InvariantCulture) + "\"";
            select(series).Append(text, name, labels);
        }
    }

    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private sealed class Series
    {
        public long Count { get; set; }

        public Histogram Duration { get; } = new(DurationBuckets);

        public Histogram RequestSize { get; } = new(SizeBuckets);

        public Histogram ResponseSize { get; } = new(SizeBuckets);
    }

    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length];
        private long _count;
        private double _sum;

        public void Observe(double value)
        {
            _count++;
            _sum += value;
            for (var i = 0; i < bounds.Length; i++)
            {
                if (value <= bounds[i])
                {
                    _counts[i]++;
                }
            }
        }

        public void Append(StringBuilder text, string name, string labels)
        {
            for (var i = 0; i < bounds.Length; i++)
            {
                text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"")
                    .Append(bounds[i].ToString(CultureInfo.InvariantCulture)).Append("\"} ")
                    .Append(_counts[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"+Inf\"} ").Append(_count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append(name).Append("_sum{").Append(labels).Append("} ").Append(_sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            text.Append(name).Append("_count{").Append(labels).Append("} ").Append(_count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}
