using Profefe.Core.Engine.Blocks;
using Profefe.Core.Engine.Symbols;

namespace Profefe.Core.Engine.Query;

/// <summary>Which sample types each series has, read once from a rollup and kept.</summary>
public sealed partial class EngineQuerier
{
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

    /// <summary>
    /// The sample and period types of each of <paramref name="series"/> for a read that a series without profiles in
    /// [fromTime, toTime] adds nothing to (a merge, totals): a layout known already is used without asking the store
    /// whether the series has profiles there (a round trip to PostgreSQL on shared storage); the others are looked up
    /// as <see cref="LayoutsAsync"/> does.
    /// </summary>
    public async Task<Dictionary<int, EngineLayout>> LayoutsForReadAsync(List<EngineSeries> series, DateTime fromTime, DateTime toTime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        var result = new Dictionary<int, EngineLayout>();
        var unknown = new List<EngineSeries>();
        foreach (var s in series)
        {
            if (_layouts.TryGetValue(s.Id, out var layout))
            {
                result[s.Id] = layout;
            }
            else
            {
                unknown.Add(s);
            }
        }

        if (unknown.Count > 0)
        {
            foreach (var (id, layout) in await LayoutsAsync(unknown, fromTime, toTime, cancellationToken).ConfigureAwait(false))
            {
                result[id] = layout;
            }
        }

        return result;
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
}
