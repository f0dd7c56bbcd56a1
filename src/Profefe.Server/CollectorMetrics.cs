using System.Diagnostics.Metrics;

namespace Profefe.Server;

/// <summary>
/// The collector's instruments on one <see cref="Meter"/> ("Profefe.Server", from this host's
/// <see cref="IMeterFactory"/>), exported by OpenTelemetry's Prometheus exporter at /debug/metrics. The request
/// family keeps profefe's names and labels: profefe_api_requests_total{method,path,code},
/// profefe_api_request_duration_seconds{method,path,code}, profefe_api_request_size_bytes{method,path} and
/// profefe_api_response_size_bytes{method,path}.
/// </summary>
internal sealed class CollectorMetrics
{
    public const string MeterName = "Profefe.Server";

    // Prometheus client_golang's default buckets, which profefe's duration histogram uses.
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly long[] SizeBuckets = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<long> _requestSize;
    private readonly Histogram<long> _responseSize;
    private readonly Counter<long> _profilesCollected;
    private readonly Counter<long> _refusals;
    private StorageStatisticsReading? _storage;

    public CollectorMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("profefe.api.requests", null, "API requests by method, path and status code.");
        _duration = meter.CreateHistogram("profefe.api.request.duration", "s", "API request durations in seconds by method, path and status code.",
            null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _requestSize = meter.CreateHistogram("profefe.api.request.size", "By", "API request body sizes in bytes by method and path.",
            null, new InstrumentAdvice<long> { HistogramBucketBoundaries = SizeBuckets });
        _responseSize = meter.CreateHistogram("profefe.api.response.size", "By", "API response body sizes in bytes by method and path.",
            null, new InstrumentAdvice<long> { HistogramBucketBoundaries = SizeBuckets });
        _profilesCollected = meter.CreateCounter<long>("profefe.profiles.collected", null, "Profiles stored by this process since it started, by type.");
        _refusals = meter.CreateCounter<long>("profefe.limit.refusals", null, "Requests refused because they exceeded a limit, by its configuration key.");
        meter.CreateObservableGauge("profefe.profiles.stored", ObserveStoredProfiles, null, "Profiles currently in the store.");
        meter.CreateObservableGauge("profefe.store.size", ObserveStoreBytes, "By", "Bytes the store occupies on disk.");
    }

    /// <summary>Counts a request refused because of <paramref name="limit"/> (its configuration key).</summary>
    public void RecordRefusal(string limit) => _refusals.Add(1, new KeyValuePair<string, object?>("limit", limit));

    public void RecordRequest(string method, string path, int code, double durationSeconds, long requestBytes, long responseBytes)
    {
        var methodTag = new KeyValuePair<string, object?>("method", method);
        var pathTag = new KeyValuePair<string, object?>("path", path);
        var codeTag = new KeyValuePair<string, object?>("code", code);
        _requests.Add(1, methodTag, pathTag, codeTag);
        _duration.Record(durationSeconds, methodTag, pathTag, codeTag);
        _requestSize.Record(requestBytes, methodTag, pathTag);
        _responseSize.Record(responseBytes, methodTag, pathTag);
    }

    public void RecordProfileCollected(string type) => _profilesCollected.Add(1, new KeyValuePair<string, object?>("type", type));

    /// <summary>
    /// What the store said before this scrape: the exporter reads gauges synchronously, and asking the store
    /// is asynchronous, so /debug/metrics asks first and the gauges report the answer.
    /// </summary>
    public void UpdateStorage(StorageStatisticsReading? reading) => Volatile.Write(ref _storage, reading);

    private IEnumerable<Measurement<long>> ObserveStoredProfiles() =>
        Volatile.Read(ref _storage) is { } reading ? [new Measurement<long>(reading.Profiles)] : [];

    private IEnumerable<Measurement<long>> ObserveStoreBytes() =>
        Volatile.Read(ref _storage) is { Bytes: { } bytes } ? [new Measurement<long>(bytes)] : [];
}

/// <param name="Profiles">Profiles in the store.</param>
/// <param name="Bytes">Bytes the store occupies, or null when it cannot tell.</param>
internal sealed record StorageStatisticsReading(long Profiles, long? Bytes);
