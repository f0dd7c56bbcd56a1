using System.Collections.Concurrent;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Engine.Symbols;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Pprof;

namespace Profefe.Core.Engine.Query;

/// <summary>
/// Answers merges, time series and downloads from the engine: whole hours inside a range come from their
/// rollups, the partial hours at its edges from their blocks' rows, so a week costs about as much as a few hours.
/// </summary>
public sealed class EngineQuerier
{
    private readonly EngineCatalog _catalog;
    private readonly IProfileEngineStore _store;
    private readonly ConcurrentDictionary<int, EngineLayout> _layouts = new();

    public EngineQuerier(EngineCatalog catalog, IProfileEngineStore store)
    {
        _catalog = catalog;
        _store = store;
    }

    /// <summary>
    /// The merge of every profile of <paramref name="query"/> (its Limit is not applied here), or null when none
    /// matches; rows read one by one at the edges count against <paramref name="maxRows"/>.
    /// </summary>
    /// <exception cref="ProfileFormatException">the profiles have different sample or period types.</exception>
    /// <exception cref="EngineRowLimitException">more edge rows than <paramref name="maxRows"/>.</exception>
    public Task<EngineMerge?> MergeAsync(string tenant, ProfileQuery query, int maxRows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return MergeAsync(tenant, query.Service, _catalog.Match(tenant, query.Service, query.Type, query.Labels), query.From, query.To, maxRows, cancellationToken);
    }

    /// <summary>
    /// The merge of the profiles of <paramref name="series"/> (all of one tenant's <paramref name="service"/>, one
    /// layout) created in [fromTime, toTime], or null when there are none.
    /// </summary>
    /// <exception cref="ProfileFormatException">the profiles have different sample or period types.</exception>
    /// <exception cref="EngineRowLimitException">more edge rows than <paramref name="maxRows"/>.</exception>
    public async Task<EngineMerge?> MergeAsync(
        string tenant, string service, List<EngineSeries> series, DateTime fromTime, DateTime toTime, int maxRows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0)
        {
            return null;
        }

        var from = fromTime.Ticks;
        var to = toTime.Ticks;
        var ids = series.ConvertAll(static s => s.Id);
        var (firstFull, lastFull) = FullBuckets(from, to);
        var rollups = firstFull <= lastFull ? await ReadWholeAsync(ids, firstFull, lastFull, cancellationToken).ConfigureAwait(false) : [];

        // Fold hour by hour, in time order: the edges' rows before and after the rollups between them.
        var table = _catalog.SymbolsOf(tenant, service);
        var state = new MergeState(table, maxRows);
        var edges = new List<long>(EdgeBuckets(from, to, firstFull, lastFull));
        foreach (var edge in edges)
        {
            if (firstFull > lastFull || edge < firstFull)
            {
                await FoldEdgeAsync(ids, edge, from, to, state, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var rollup in rollups)
        {
            state.Add(RollupCodec.Read(rollup.Data));
        }

        foreach (var edge in edges)
        {
            if (firstFull <= lastFull && edge > lastFull)
            {
                await FoldEdgeAsync(ids, edge, from, to, state, cancellationToken).ConfigureAwait(false);
            }
        }

        var aggregate = state.Aggregate;
        if (aggregate is null || aggregate.Count == 0)
        {
            return null;
        }

        Profile profile;
        lock (table.Sync)
        {
            var materializer = new ProfileMaterializer(table, aggregate.ToHeader());
            for (var i = 0; i < aggregate.EntryCount; i++)
            {
                var key = aggregate.KeyAt(i);
                materializer.AddSample(ProfileAggregate.StackOf(key), ProfileAggregate.LabelSetOf(key), aggregate.ValuesAt(i));
            }

            profile = materializer.ToProfile();
        }

        // One pass of the raw merger gives the result Go's merge gives: its location folding and zero dropping.
        return new EngineMerge(ProfileMerger.Merge([profile]), aggregate.Count, state.Rows);
    }

    /// <summary>Metas of the profiles <paramref name="query"/> matches that the engine holds, ascending by creation time then id.</summary>
    public async Task<List<ProfileMeta>> FindAsync(string tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var metas = new List<ProfileMeta>();
        var series = _catalog.Match(tenant, query.Service, query.Type, query.Labels);
        if (series.Count == 0)
        {
            return metas;
        }

        foreach (var entry in await _store.FindProfilesAsync(series.ConvertAll(static s => s.Id), query.From.Ticks, query.To.Ticks, cancellationToken).ConfigureAwait(false))
        {
            var s = _catalog.Series(entry.Series);
            metas.Add(new ProfileMeta(entry.Id, s.Type, s.Service, s.Labels, new DateTime(entry.CreatedAt, DateTimeKind.Utc), TenantId.FromKey(s.Tenant)));
        }

        return metas;
    }

    /// <summary>The tenant's stored profile rebuilt from the engine, or null when the engine does not have it (or it is another tenant's).</summary>
    public async Task<(ProfileMeta Meta, Profile Profile)?> GetAsync(string tenant, ProfileId id, CancellationToken cancellationToken)
    {
        var entry = await _store.GetProfileAsync(id, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return null;
        }

        var series = _catalog.Series(entry.Series);
        if (series.Tenant != tenant)
        {
            return null;
        }
        var blocks = await _store.ReadBlocksAsync(entry.Series, EngineCatalog.BucketOf(entry.CreatedAt), cancellationToken).ConfigureAwait(false);
        foreach (var block in blocks)
        {
            foreach (var row in ProfileBlockCodec.Decode(block.Data))
            {
                if (row.Id != id)
                {
                    continue;
                }

                var table = _catalog.SymbolsOf(series.Tenant, series.Service);
                lock (table.Sync)
                {
                    var materializer = new ProfileMaterializer(table, row.Header);
                    materializer.AddRow(row);
                    var meta = new ProfileMeta(id, series.Type, series.Service, series.Labels, row.CreatedAt, TenantId.FromKey(series.Tenant));
                    return (meta, materializer.ToProfile());
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Totals per step over [from, to], one series of points per value of <paramref name="groupBy"/> (one in all
    /// when null); whole hours inside one step come from rollup totals, the rest from per-profile totals.
    /// </summary>
    public async Task<EngineTimeSeries> SeriesAsync(
        string tenant, string service, ProfileType type, IReadOnlyList<Label> labels, DateTime fromTime, DateTime toTime, TimeSpan step, string? groupBy, CancellationToken cancellationToken)
    {
        var series = _catalog.Match(tenant, service, type, labels);
        var groups = await TotalsAsync(series, s => groupBy is null ? "" : ValueOf(s.Labels, groupBy), fromTime, toTime, step, cancellationToken).ConfigureAwait(false);
        if (series.Count == 0)
        {
            return new EngineTimeSeries([], groups);
        }

        IReadOnlyList<string> sampleTypes = [];
        var ids = series.ConvertAll(static s => s.Id);
        var to = toTime.Ticks;
        var newest = await _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, EngineCatalog.BucketOf(to), EngineCatalog.BucketOf(to), withData: true, cancellationToken).ConfigureAwait(false);
        var any = newest.Count > 0 ? newest : await _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, EngineCatalog.BucketOf(fromTime.Ticks), EngineCatalog.BucketOf(to), withData: true, cancellationToken).ConfigureAwait(false);
        if (any.Count > 0)
        {
            sampleTypes = LayoutOf(series[0], RollupCodec.Read(any[^1].Data).Layout).SampleTypes.ConvertAll(static t => t.Type + "/" + t.Unit);
        }

        return new EngineTimeSeries(sampleTypes, groups);
    }

    /// <summary>
    /// Totals per step over [fromTime, toTime] (step i covers [from + i·step, from + (i + 1)·step)), one set of points per
    /// distinct <paramref name="groupOf"/> of the series, ascending by group; whole hours inside one step come from
    /// rollup totals, the rest from per-profile totals.
    /// </summary>
    public async Task<List<EngineSeriesPoints>> TotalsAsync(
        List<EngineSeries> series, Func<EngineSeries, string> groupOf, DateTime fromTime, DateTime toTime, TimeSpan step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(groupOf);
        var from = fromTime.Ticks;
        var to = toTime.Ticks;
        var stepTicks = step.Ticks;
        var points = (int)((to - from) / stepTicks) + 1;
        var groups = new SortedDictionary<string, EngineSeriesPoints>(StringComparer.Ordinal);
        if (series.Count == 0)
        {
            return [];
        }

        var ids = series.ConvertAll(static s => s.Id);
        var groupById = new Dictionary<int, string>();
        foreach (var s in series)
        {
            groupById[s.Id] = groupOf(s);
        }

        EngineSeriesPoints PointsOf(int seriesId, int width)
        {
            var key = groupById[seriesId];
            if (!groups.TryGetValue(key, out var p))
            {
                p = new EngineSeriesPoints(key, new long[points * width], new long[points], width);
                groups[key] = p;
            }

            return p;
        }

        var (firstFull, lastFull) = FullBuckets(from, to);
        var covered = new HashSet<(int, long)>();
        if (firstFull <= lastFull)
        {
            foreach (var rollup in await _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, firstFull, lastFull, withData: false, cancellationToken).ConfigureAwait(false))
            {
                var window = (rollup.Bucket - from) / stepTicks;
                if ((rollup.Bucket + EngineCatalog.BucketTicks - 1 - from) / stepTicks != window)
                {
                    continue;
                }

                var p = PointsOf(rollup.Series, rollup.Totals.Length);
                p.Add((int)window, rollup.Totals, rollup.Count);
                covered.Add((rollup.Series, rollup.Bucket));
            }
        }

        // Every profile of a whole hour is in that hour's rollup, so per-profile totals are read only where no
        // rollup could be used: the partial hours at the edges and hours that straddle two steps.
        foreach (var (first, last) in UncoveredRanges(from, to, stepTicks, firstFull, lastFull))
        {
            foreach (var entry in await _store.FindProfilesAsync(ids, first, last, cancellationToken).ConfigureAwait(false))
            {
                if (covered.Contains((entry.Series, EngineCatalog.BucketOf(entry.CreatedAt))))
                {
                    continue;
                }

                PointsOf(entry.Series, entry.Totals.Length).Add((int)((entry.CreatedAt - from) / stepTicks), entry.Totals, 1);
            }
        }

        return [.. groups.Values];
    }

    /// <summary>
    /// The sample and period types of each of <paramref name="series"/> that holds profiles in the hours
    /// [fromTime, toTime] touches (an hour's precision: enough to list series and pick a sample type's index).
    /// </summary>
    public async Task<Dictionary<int, EngineLayout>> LayoutsAsync(List<EngineSeries> series, DateTime fromTime, DateTime toTime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        var result = new Dictionary<int, EngineLayout>();
        if (series.Count == 0)
        {
            return result;
        }

        var newestBucket = new Dictionary<int, long>();
        var present = await _store.ReadRollupsAsync(
            series.ConvertAll(static s => s.Id), EngineCatalog.BucketTicks, EngineCatalog.BucketOf(fromTime.Ticks), EngineCatalog.BucketOf(toTime.Ticks), withData: false, cancellationToken).ConfigureAwait(false);
        foreach (var rollup in present)
        {
            newestBucket[rollup.Series] = rollup.Bucket;
        }

        var unknown = new Dictionary<long, List<int>>();
        foreach (var (id, bucket) in newestBucket)
        {
            if (_layouts.TryGetValue(id, out var layout))
            {
                result[id] = layout;
            }
            else if (unknown.TryGetValue(bucket, out var ids))
            {
                ids.Add(id);
            }
            else
            {
                unknown[bucket] = [id];
            }
        }

        // A series keeps the layout of its first profile in its rollups, so one rollup tells it for good.
        foreach (var (bucket, ids) in unknown)
        {
            foreach (var rollup in await _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, bucket, bucket, withData: true, cancellationToken).ConfigureAwait(false))
            {
                var layout = LayoutOf(_catalog.Series(rollup.Series), RollupCodec.Read(rollup.Data).Layout);
                _layouts[rollup.Series] = layout;
                result[rollup.Series] = layout;
            }
        }

        return result;
    }

    /// <summary>Per-profile entries of <paramref name="series"/> created in [from, to] (ticks), ascending by time then id.</summary>
    public Task<IReadOnlyList<EngineProfileEntry>> EntriesAsync(List<EngineSeries> series, long from, long to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        return _store.FindProfilesAsync(series.ConvertAll(static s => s.Id), from, to, cancellationToken);
    }

    private EngineLayout LayoutOf(EngineSeries series, int layout)
    {
        var table = _catalog.SymbolsOf(series.Tenant, series.Service);
        lock (table.Sync)
        {
            var profile = new ProfileMaterializer(table, new ProfileHeader(layout, 0, 0, 0, 0, 0, 0, 0, [])).ToProfile();
            return new EngineLayout([.. profile.SampleTypes], profile.PeriodType);
        }
    }

    private static string ValueOf(IReadOnlyList<Label> labels, string key)
    {
        foreach (var label in labels)
        {
            if (label.Key == key)
            {
                return label.Value;
            }
        }

        return "";
    }

    // The rollups of the whole hours [firstHour, lastHour], in time order: whole days from day rollups, the hours
    // around them from hour rollups.
    private async Task<List<StoredRollup>> ReadWholeAsync(List<int> ids, long firstHour, long lastHour, CancellationToken cancellationToken)
    {
        var day = EngineCatalog.DayTicks;
        var firstDay = EngineCatalog.DayOf(firstHour) < firstHour ? EngineCatalog.DayOf(firstHour) + day : firstHour;
        var lastDay = EngineCatalog.DayOf(lastHour + EngineCatalog.BucketTicks) - day;
        var rollups = new List<StoredRollup>();
        if (firstDay > lastDay)
        {
            rollups.AddRange(await _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, firstHour, lastHour, withData: true, cancellationToken).ConfigureAwait(false));
            return rollups;
        }

        if (firstHour < firstDay)
        {
            rollups.AddRange(await _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, firstHour, firstDay - 1, withData: true, cancellationToken).ConfigureAwait(false));
        }

        rollups.AddRange(await _store.ReadRollupsAsync(ids, day, firstDay, lastDay, withData: true, cancellationToken).ConfigureAwait(false));
        if (lastDay + day <= lastHour)
        {
            rollups.AddRange(await _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, lastDay + day, lastHour, withData: true, cancellationToken).ConfigureAwait(false));
        }

        return rollups;
    }

    private static (long First, long Last) FullBuckets(long from, long to)
    {
        var first = EngineCatalog.BucketOf(from);
        if (first < from)
        {
            first += EngineCatalog.BucketTicks;
        }

        var last = EngineCatalog.BucketOf(to);
        if (last + EngineCatalog.BucketTicks - 1 > to)
        {
            last -= EngineCatalog.BucketTicks;
        }

        return (first, last);
    }

    // Time ranges (inclusive) of [from, to] whose profiles no rollup is used for: the partial hours at the edges and
    // the whole hours a step boundary cuts, ascending and joined where they touch. Many scattered hours are read as
    // the whole range in one query instead.
    private static List<(long First, long Last)> UncoveredRanges(long from, long to, long stepTicks, long firstFull, long lastFull)
    {
        const int MaxRanges = 64;
        var ranges = new List<(long First, long Last)>();
        void Add(long first, long last)
        {
            if (first > last)
            {
                return;
            }

            if (ranges.Count > 0 && ranges[^1].Last + 1 >= first)
            {
                ranges[^1] = (ranges[^1].First, Math.Max(ranges[^1].Last, last));
            }
            else
            {
                ranges.Add((first, last));
            }
        }

        if (firstFull > lastFull)
        {
            return [(from, to)];
        }

        Add(from, firstFull - 1);
        for (var boundary = from + stepTicks; boundary < lastFull + EngineCatalog.BucketTicks && ranges.Count <= MaxRanges; boundary += stepTicks)
        {
            var bucket = EngineCatalog.BucketOf(boundary);
            if (bucket != boundary && bucket >= firstFull)
            {
                Add(bucket, bucket + EngineCatalog.BucketTicks - 1);
            }
        }

        Add(lastFull + EngineCatalog.BucketTicks, to);
        return ranges.Count > MaxRanges ? [(from, to)] : ranges;
    }

    // Buckets [from, to] touches that are not whole inside it, ascending; without whole buckets, every bucket.
    private static IEnumerable<long> EdgeBuckets(long from, long to, long firstFull, long lastFull)
    {
        for (var bucket = EngineCatalog.BucketOf(from); bucket <= to; bucket += EngineCatalog.BucketTicks)
        {
            if (bucket < firstFull || bucket > lastFull)
            {
                yield return bucket;
            }
        }
    }

    private async Task FoldEdgeAsync(List<int> series, long bucket, long from, long to, MergeState state, CancellationToken cancellationToken)
    {
        var rows = new List<ProfileRow>();
        foreach (var id in series)
        {
            foreach (var block in await _store.ReadBlocksAsync(id, bucket, cancellationToken).ConfigureAwait(false))
            {
                foreach (var row in ProfileBlockCodec.Decode(block.Data))
                {
                    if (row.CreatedAt.Ticks >= from && row.CreatedAt.Ticks <= to)
                    {
                        rows.Add(row);
                    }
                }
            }
        }

        rows.Sort(BlockCutter.CompareByTime);
        foreach (var row in rows)
        {
            state.Add(row);
        }
    }

    // The running result of one merge and how many rows it read one by one.
    private sealed class MergeState(SymbolTable table, int maxRows)
    {
        public ProfileAggregate? Aggregate { get; private set; }

        public int Rows { get; private set; }

        public void Add(ProfileRow row)
        {
            if (++Rows > maxRows)
            {
                throw new EngineRowLimitException(maxRows);
            }

            if (Aggregate is null)
            {
                lock (table.Sync)
                {
                    Aggregate = new ProfileAggregate(row.Header.Layout, table.ValuesPerSample(row.Header.Layout));
                }
            }

            Aggregate.Add(row);
        }

        public void Add(ProfileAggregate part)
        {
            Aggregate ??= new ProfileAggregate(part.Layout, part.Width);
            Aggregate.Add(part);
        }
    }
}

/// <summary>The sample types (and period type) every profile of a series has.</summary>
public sealed record EngineLayout(List<SampleType> SampleTypes, SampleType? PeriodType);

/// <summary>A merge's result and what it cost.</summary>
public sealed record EngineMerge(Profile Profile, int Profiles, int RowsRead);

/// <summary>A time series: per group, totals per step for each sample type.</summary>
public sealed record EngineTimeSeries(IReadOnlyList<string> SampleTypes, IReadOnlyList<EngineSeriesPoints> Groups);

/// <summary>One group's points: <see cref="Totals"/> is step-major (step i's sample types at [i * Width, (i + 1) * Width)).</summary>
public sealed record EngineSeriesPoints(string Group, long[] Totals, long[] Counts, int Width)
{
    public void Add(int step, long[] totals, int count)
    {
        ArgumentNullException.ThrowIfNull(totals);
        if (step < 0 || step >= Counts.Length)
        {
            return;
        }

        Counts[step] += count;
        for (var t = 0; t < Math.Min(Width, totals.Length); t++)
        {
            Totals[(step * Width) + t] += totals[t];
        }
    }
}

/// <summary>A merge would read more single rows than the merge limit allows.</summary>
public sealed class EngineRowLimitException(int limit)
    : Exception($"the merge reads more than {limit} profiles one by one")
{
    public int Limit { get; } = limit;
}
