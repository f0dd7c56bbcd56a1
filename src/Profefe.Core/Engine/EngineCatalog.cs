using Profefe.Core.Engine.Symbols;
using Profefe.Core.Profiles;

namespace Profefe.Core.Engine;

/// <summary>
/// What the engine holds in memory: the series, each service's symbol table and the cursor into the write
/// log, as of the last commit. Loaded from the store, then (on shared storage) brought up to date with what
/// other collectors committed; the cutter is its only other writer.
/// </summary>
public sealed class EngineCatalog
{
    private readonly Lock _sync = new();
    private readonly Dictionary<(string Tenant, string Service), SymbolTable> _symbols = [];
    private readonly Dictionary<string, EngineSeries> _seriesByKey = new(StringComparer.Ordinal);
    private readonly List<EngineSeries> _series = [];
    private long _cursor;

    /// <summary>Rollups and blocks cover one bucket each: an hour.</summary>
    public static readonly long BucketTicks = TimeSpan.TicksPerHour;

    public long Cursor => Interlocked.Read(ref _cursor);

    public bool Loaded { get; private set; }

    /// <summary>Where the cutter's commits (from the store's commit until the cursor moved) and reads at one cursor take turns.</summary>
    public CutCommitGate Gate { get; } = new();

    /// <summary>Day rollups fold a series' 24 hour rollups, so a week's merge reads a few dozen rollups.</summary>
    public static readonly long DayTicks = TimeSpan.TicksPerDay;

    public static long BucketOf(long ticks) => ticks - (ticks % BucketTicks);

    public static long DayOf(long ticks) => ticks - (ticks % DayTicks);

    /// <summary>Adds what <paramref name="snapshot"/> holds: all of a store's state, or what was committed since the last load.</summary>
    public void Load(EngineSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_sync)
        {
            foreach (var series in snapshot.Series)
            {
                // A commit whose acknowledgement was lost comes back in the next read of changes: known already.
                if (series.Id > _series.Count)
                {
                    AddSeries(series);
                }
            }

            foreach (var (tenant, service, delta) in snapshot.SymbolDeltas)
            {
                // Queries may be reading the table: on shared storage a reader loads deltas while it answers.
                var table = SymbolsOf(tenant, service);
                lock (table.Sync)
                {
                    table.Restore(delta);
                }
            }

            _cursor = Math.Max(_cursor, snapshot.Cursor);
            Loaded = true;
        }
    }

    public SymbolTable SymbolsOf(string tenant, string service)
    {
        lock (_sync)
        {
            if (!_symbols.TryGetValue((tenant, service), out var table))
            {
                table = new SymbolTable();
                _symbols[(tenant, service)] = table;
            }

            return table;
        }
    }

    public IReadOnlyList<(string Tenant, string Service, SymbolTable Table)> AllSymbols()
    {
        lock (_sync)
        {
            var all = new List<(string, string, SymbolTable)>(_symbols.Count);
            foreach (var ((tenant, service), table) in _symbols)
            {
                all.Add((tenant, service, table));
            }

            return all;
        }
    }

    /// <summary>The series of these fields, and whether it is new (not yet committed).</summary>
    public (EngineSeries Series, bool IsNew) SeriesFor(string tenant, string service, ProfileType type, IReadOnlyList<Label> labels)
    {
        var key = SeriesKey(tenant, service, type, labels);
        lock (_sync)
        {
            if (_seriesByKey.TryGetValue(key, out var series))
            {
                return (series, false);
            }

            series = new EngineSeries(_series.Count + 1, tenant, service, type, labels);
            AddSeries(series);
            return (series, true);
        }
    }

    /// <summary>Forgets series a failed commit did not write.</summary>
    public void DiscardSeries(IReadOnlyList<EngineSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        lock (_sync)
        {
            foreach (var s in series)
            {
                _seriesByKey.Remove(SeriesKey(s.Tenant, s.Service, s.Type, s.Labels));
            }

            _series.RemoveAll(s => s.Id > _series.Count - series.Count);
        }
    }

    /// <summary>The series of <paramref name="id"/>, or null when this catalog has not loaded it (yet).</summary>
    public EngineSeries? FindSeries(int id)
    {
        lock (_sync)
        {
            return id >= 1 && id <= _series.Count ? _series[id - 1] : null;
        }
    }

    public EngineSeries Series(int id)
    {
        lock (_sync)
        {
            return _series[id - 1];
        }
    }

    /// <summary>Series of the tenant's service (and type, when given) that carry every label in <paramref name="labels"/>.</summary>
    public List<EngineSeries> Match(string tenant, string service, ProfileType? type, IReadOnlyList<Label> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var matches = new List<EngineSeries>();
        lock (_sync)
        {
            foreach (var series in _series)
            {
                if (series.Tenant == tenant && series.Service == service && (type is null || series.Type == type) && LabelFilter.HasEvery(series.Labels, labels))
                {
                    matches.Add(series);
                }
            }
        }

        return matches;
    }

    /// <summary>Every series of <paramref name="tenant"/>, in creation order.</summary>
    public List<EngineSeries> SeriesOf(string tenant)
    {
        var matches = new List<EngineSeries>();
        lock (_sync)
        {
            foreach (var series in _series)
            {
                if (series.Tenant == tenant)
                {
                    matches.Add(series);
                }
            }
        }

        return matches;
    }

    /// <summary>The tenant's series' services and label values, for lists that must outlive the raw index.</summary>
    public (SortedSet<string> Services, SortedDictionary<string, SortedSet<string>> Labels) Describe(string tenant, string? service)
    {
        var services = new SortedSet<string>(StringComparer.Ordinal);
        var labels = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        lock (_sync)
        {
            foreach (var series in _series)
            {
                if (series.Tenant != tenant)
                {
                    continue;
                }

                services.Add(series.Service);
                if (service is not null && series.Service != service)
                {
                    continue;
                }

                foreach (var label in series.Labels)
                {
                    if (!labels.TryGetValue(label.Key, out var values))
                    {
                        values = new SortedSet<string>(StringComparer.Ordinal);
                        labels[label.Key] = values;
                    }

                    values.Add(label.Value);
                }
            }
        }

        return (services, labels);
    }

    public void Advance(long cursor) => Interlocked.Exchange(ref _cursor, cursor);

    private void AddSeries(EngineSeries series)
    {
        _seriesByKey[SeriesKey(series.Tenant, series.Service, series.Type, series.Labels)] = series;
        _series.Add(series);
    }

    private static string SeriesKey(string tenant, string service, ProfileType type, IReadOnlyList<Label> labels)
    {
        var builder = new System.Text.StringBuilder();
        builder.Append(tenant).Append('\0').Append(service).Append('\0').Append((int)type);
        foreach (var label in labels)
        {
            builder.Append('\0').Append(label.Key).Append('=').Append(label.Value);
        }

        return builder.ToString();
    }
}
