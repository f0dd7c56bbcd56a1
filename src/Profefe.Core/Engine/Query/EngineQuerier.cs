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
public sealed partial class EngineQuerier
{
    private readonly EngineCatalog _catalog;
    private readonly IProfileEngineStore _store;
    private readonly ConcurrentDictionary<int, EngineLayout> _layouts = new();

    public EngineQuerier(EngineCatalog catalog, IProfileEngineStore store)
    {
        _catalog = catalog;
        _store = store;
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

        // A series this collector's catalog has not loaded yet was committed by the lease holder since its last refresh.
        if (_catalog.FindSeries(entry.Series) is not { } series || series.Tenant != tenant)
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

    /// <summary>Per-profile entries of <paramref name="series"/> created in [from, to] (ticks), ascending by time then id.</summary>
    public Task<IReadOnlyList<EngineProfileEntry>> EntriesAsync(List<EngineSeries> series, long from, long to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        return _store.FindProfilesAsync(series.ConvertAll(static s => s.Id), from, to, cancellationToken);
    }

    /// <summary>
    /// Per-profile entries of <paramref name="series"/> created in the windows [start, start + width - 1] (ticks) of
    /// <paramref name="starts"/> (ascending, not overlapping), read at once; ascending by time then id.
    /// </summary>
    public Task<IReadOnlyList<EngineProfileEntry>> EntriesInWindowsAsync(List<EngineSeries> series, IReadOnlyList<long> starts, long width, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        return _store.FindProfilesInWindowsAsync(series.ConvertAll(static s => s.Id), starts, width, cancellationToken);
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
}
