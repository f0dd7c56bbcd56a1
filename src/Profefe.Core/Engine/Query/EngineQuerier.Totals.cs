using Profefe.Core.Engine.Blocks;
using Profefe.Core.Profiles;

namespace Profefe.Core.Engine.Query;

/// <summary>Time series: totals per step from rollup totals where whole hours fit a step, per-profile totals elsewhere.</summary>
public sealed partial class EngineQuerier
{
    /// <summary>
    /// Totals per step over [from, to], one series of points per value of <paramref name="groupBy"/> (one in all
    /// when null); whole hours inside one step come from rollup totals, the rest from per-profile totals.
    /// </summary>
    public async Task<EngineTimeSeries> SeriesAsync(
        string tenant, string service, ProfileType type, IReadOnlyList<Label> labels, DateTime fromTime, DateTime toTime, TimeSpan step, string? groupBy, CancellationToken cancellationToken)
    {
        var series = _catalog.Match(tenant, service, type, labels);
        if (series.Count == 0)
        {
            return new EngineTimeSeries([], []);
        }

        // The newest rollup (for the sample types) is read beside the totals, not after them: on shared storage
        // each read is a round trip to PostgreSQL.
        IReadOnlyList<string> sampleTypes = [];
        var ids = series.ConvertAll(static s => s.Id);
        var to = toTime.Ticks;
        var reading = _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, EngineCatalog.BucketOf(to), EngineCatalog.BucketOf(to), withData: true, cancellationToken);
        var totals = TotalsAsync(series, s => groupBy is null ? "" : LabelFilter.ValueOf(s.Labels, groupBy), fromTime, toTime, step, cancellationToken);
        await Task.WhenAll(reading, totals).ConfigureAwait(false);
        var groups = await totals.ConfigureAwait(false);
        var newest = await reading.ConfigureAwait(false);
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

        // Per-profile totals are read only where no rollup could be used: the partial hours at the edges and hours
        // that straddle two steps (every profile of a whole hour is in its rollup). Both reads run at once; on
        // shared storage each is a round trip to PostgreSQL.
        var readingRollups = firstFull <= lastFull
            ? _store.ReadRollupsAsync(ids, EngineCatalog.BucketTicks, firstFull, lastFull, withData: false, cancellationToken)
            : Task.FromResult<IReadOnlyList<StoredRollup>>([]);
        var readingEntries = ReadUncoveredAsync(ids, from, to, stepTicks, firstFull, lastFull, cancellationToken);
        await Task.WhenAll(readingRollups, readingEntries).ConfigureAwait(false);

        var covered = new HashSet<(int, long)>();
        foreach (var rollup in await readingRollups.ConfigureAwait(false))
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

        foreach (var entries in await readingEntries.ConfigureAwait(false))
        {
            foreach (var entry in entries)
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

    // Per-profile entries of the ranges no rollup is used for, one read per range, in order.
    private async Task<List<IReadOnlyList<EngineProfileEntry>>> ReadUncoveredAsync(
        List<int> ids, long from, long to, long stepTicks, long firstFull, long lastFull, CancellationToken cancellationToken)
    {
        var reads = new List<IReadOnlyList<EngineProfileEntry>>();
        foreach (var (first, last) in UncoveredRanges(from, to, stepTicks, firstFull, lastFull))
        {
            reads.Add(await _store.FindProfilesAsync(ids, first, last, cancellationToken).ConfigureAwait(false));
        }

        return reads;
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
}
