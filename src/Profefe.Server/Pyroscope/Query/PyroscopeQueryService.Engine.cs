using Profefe.Core.Engine;
using Profefe.Core.Engine.Query;
using Profefe.Core.Profiles;
using Profefe.Core.Tenancy;
using Profefe.Pprof;
using Profefe.Server.Pyroscope.Connect;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>
/// The three questions answered by the profile engine: series from its catalog, merges from its rollups (whole
/// hours) and blocks (the partial hours at the edges), totals per step from its rollup and per-profile totals, so a
/// week costs about what a few hours cost.
/// </summary>
internal sealed partial class PyroscopeQueryService
{
    // Steps are counted per boundary millisecond (see AddEngineTotalsAsync), all boundaries in one read; past this
    // many boundaries the range is read as per-profile totals in one query instead.
    private const int MaxBoundaryReads = 2_000;

    // Edge rows are at most two partial hours per series, read from compact blocks rather than raw profiles; the
    // query deadline and the merge concurrency limit bound their cost, so Grafana's unaligned ranges never fail.
    private const int EdgeRowBound = int.MaxValue;

    /// <param name="SampleIndex">Where the series' sample type is among the engine series' sample types.</param>
    private sealed record EngineSelected(Series Series, EngineSeries Source, int SampleIndex, EngineLayout Layout);

    /// <param name="forRead">
    /// For a merge or totals, which a series without profiles in the range adds nothing to: series whose layout is
    /// known are selected without checking that they have profiles there (one round trip less on shared storage).
    /// </param>
    private async Task<List<EngineSelected>> FindEngineSeriesAsync(
        TenantId tenant, IReadOnlyList<LabelSelector> selectors, DateTime from, DateTime to, bool forRead, CancellationToken cancellationToken)
    {
        var ready = engine!;
        var type = TypeOf(selectors);
        var candidates = new List<(EngineSeries Source, List<Label> Labels)>();
        foreach (var series in ready.Catalog.SeriesOf(tenant.Key))
        {
            if (series.Type is ProfileType.Trace or ProfileType.Unknown || (type is not null && series.Type != type))
            {
                continue;
            }

            var labels = SeriesLabels.Of(series.Service, series.Type, series.Labels);
            if (AnyMatches(selectors, labels, ignoreProfileType: true))
            {
                candidates.Add((series, labels));
            }
        }

        var sources = candidates.ConvertAll(static c => c.Source);
        var layouts = forRead
            ? await ready.Querier.LayoutsForReadAsync(sources, from, to, cancellationToken).ConfigureAwait(false)
            : await ready.Querier.LayoutsAsync(sources, from, to, cancellationToken).ConfigureAwait(false);
        var found = new List<EngineSelected>();
        foreach (var (source, labels) in candidates)
        {
            if (!layouts.TryGetValue(source.Id, out var layout))
            {
                continue;
            }

            foreach (var (i, typeId, all) in MatchingSampleTypes(labels, layout.SampleTypes, layout.PeriodType, selectors))
            {
                found.Add(new EngineSelected(new Series(all, typeId), source, i, layout));
            }
        }

        return found;
    }

    private async Task<Profile?> MergeEngineAsync(
        TenantId tenant, ProfileTypeId type, LabelSelector selector, DateTime from, DateTime to, IReadOnlyList<string>? callSite, CancellationToken cancellationToken)
    {
        // The engine merges one service's series of one layout at a time (one symbol table, one set of sample types);
        // the parts are reduced to the type's sample type and then combined, as the raw path combines layouts.
        var parts = new Dictionary<string, (string Service, List<EngineSeries> Series, int SampleIndex)>(StringComparer.Ordinal);
        foreach (var selected in await FindEngineSeriesAsync(tenant, [Typed(selector, type)], from, to, forRead: true, cancellationToken).ConfigureAwait(false))
        {
            var key = selected.Source.Service + "\u0001" + string.Join(",", selected.Layout.SampleTypes) + "|" + selected.Layout.PeriodType;
            if (!parts.TryGetValue(key, out var part))
            {
                part = (selected.Source.Service, [], selected.SampleIndex);
                parts.Add(key, part);
            }

            part.Series.Add(selected.Source);
        }

        return await CombinePartsAsync(parts.Values, static part => part.SampleIndex, MergePartAsync, callSite).ConfigureAwait(false);

        async Task<Profile?> MergePartAsync((string Service, List<EngineSeries> Series, int SampleIndex) part)
        {
            try
            {
                var merge = await engine!.Querier.MergeAsync(tenant.Key, part.Service, part.Series, from, to, EdgeRowBound, cancellationToken).ConfigureAwait(false);
                return merge?.Profile;
            }
            catch (ProfileFormatException e)
            {
                throw new ConnectException(ConnectCode.Internal, $"failed to merge profiles of service \"{part.Service}\": {e.Message}");
            }
        }
    }

    private async Task AddEngineTotalsAsync(
        TenantId tenant, StepTotals totals, ProfileTypeId type, LabelSelector selector, DateTime from, DateTime to, long startMs, long stepMs, CancellationToken cancellationToken)
    {
        var selected = await FindEngineSeriesAsync(tenant, [Typed(selector, type)], from, to, forRead: true, cancellationToken).ConfigureAwait(false);
        if (selected.Count == 0)
        {
            return;
        }

        var byId = new Dictionary<int, EngineSelected>();
        foreach (var s in selected)
        {
            byId[s.Source.Id] = s;
        }

        var sources = selected.ConvertAll(static s => s.Source);
        void Add(int seriesId, long pointMs, long[] values, int width, int offset, long count, int sign)
        {
            var s = byId[seriesId];
            var value = s.SampleIndex < width ? values[offset + s.SampleIndex] : 0;
            totals.Add(s.Series.Labels, pointMs, sign * (double)value, sign * count);
        }

        // A profile at t counts for the point start + k·step with k = ceil((t_ms - start) / step) (0 at or before
        // start), as the raw path counts. The engine's steps are [from + j·step, from + (j + 1)·step), whole hours of
        // which come from rollups; all of step j goes to point j + 1 except the profiles in its first millisecond,
        // which belong to point j: those are read on their own and moved back.
        var stepTicks = stepMs * TimeSpan.TicksPerMillisecond;
        var windows = from == DateTime.MinValue || to == DateTime.MaxValue ? long.MaxValue : ((to.Ticks - from.Ticks) / stepTicks) + 1;
        if (stepTicks < Core.Engine.EngineCatalog.BucketTicks || windows > MaxBoundaryReads || from.Ticks != DateTime.UnixEpoch.Ticks + (startMs * TimeSpan.TicksPerMillisecond))
        {
            foreach (var entry in await engine!.Querier.EntriesAsync(sources, from.Ticks, to.Ticks, cancellationToken).ConfigureAwait(false))
            {
                var timeMs = (entry.CreatedAt - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
                var steps = timeMs <= startMs ? 0 : ((timeMs - startMs) + stepMs - 1) / stepMs;
                Add(entry.Series, startMs + (steps * stepMs), entry.Totals, entry.Totals.Length, 0, 1, 1);
            }

            return;
        }

        var boundaries = new long[windows];
        for (var j = 0; j < boundaries.Length; j++)
        {
            boundaries[j] = from.Ticks + (j * stepTicks);
        }

        // Both reads at once: on shared storage each is a round trip to PostgreSQL.
        var readingTotals = engine!.Querier.TotalsAsync(sources, static s => s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), from, to, TimeSpan.FromTicks(stepTicks), cancellationToken);
        var readingBoundaries = engine!.Querier.EntriesInWindowsAsync(sources, boundaries, TimeSpan.TicksPerMillisecond, cancellationToken);
        await Task.WhenAll(readingTotals, readingBoundaries).ConfigureAwait(false);
        foreach (var points in await readingTotals.ConfigureAwait(false))
        {
            var seriesId = int.Parse(points.Group, System.Globalization.CultureInfo.InvariantCulture);
            for (var j = 0; j < points.Counts.Length; j++)
            {
                if (points.Counts[j] > 0)
                {
                    Add(seriesId, startMs + ((j + 1) * stepMs), points.Totals, points.Width, j * points.Width, points.Counts[j], 1);
                }
            }
        }

        foreach (var entry in await readingBoundaries.ConfigureAwait(false))
        {
            var j = (entry.CreatedAt - from.Ticks) / stepTicks;
            Add(entry.Series, startMs + ((j + 1) * stepMs), entry.Totals, entry.Totals.Length, 0, 1, -1);
            Add(entry.Series, startMs + (j * stepMs), entry.Totals, entry.Totals.Length, 0, 1, 1);
        }
    }
}
