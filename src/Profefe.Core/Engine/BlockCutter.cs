using System.Runtime.CompilerServices;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Engine.Symbols;
using Profefe.Core.Profiles;
using Profefe.Pprof;

namespace Profefe.Core.Engine;

/// <summary>
/// Cuts the engine's data from the write log: reads the profiles stored after the cursor, turns each into a
/// row against its service's symbols, writes one block per (series, hour) and folds the rows into that hour's
/// rollup, all in one commit with the new cursor. A crash before the commit leaves nothing; after it, the
/// cursor has moved past every profile it took, so none is counted twice. Nothing here is on the ingest path.
/// </summary>
public sealed class BlockCutter
{
    private readonly EngineCatalog _catalog;
    private readonly IProfileEngineStore _store;
    private readonly IProfileLog _log;
    private readonly int _batch;

    // One symbolizer per service's table, so its scratch space is sized once, not again for every profile.
    private readonly ConditionalWeakTable<SymbolTable, ProfileSymbolizer> _symbolizers = [];

    // Profiles of one program repeat their names: decoding them into shared strings allocates each name once.
    // Bounded, so a collector of many programs does not keep every name it ever saw.
    private readonly ProfileDecoderOptions _decoderOptions = new() { StringPool = new ProfileStringPool(maxCount: 1 << 16) };

    public BlockCutter(EngineCatalog catalog, IProfileEngineStore store, IProfileLog log, int batch)
    {
        _catalog = catalog;
        _store = store;
        _log = log;
        _batch = batch;
    }

    /// <summary>Profiles the log had that the engine keeps no rows for (traces, undecodable bytes).</summary>
    public long Skipped { get; private set; }

    /// <summary>Cuts one batch; returns how many log entries it took (0 when the engine is caught up).</summary>
    public async Task<int> CutAsync(CancellationToken cancellationToken)
    {
        var logged = await _log.ReadAfterAsync(_catalog.Cursor, _batch, cancellationToken).ConfigureAwait(false);
        if (logged.Count == 0)
        {
            return 0;
        }

        var rows = new List<(EngineSeries Series, ProfileRow Row)>(logged.Count);
        var storedAt = new Dictionary<ProfileId, long>(logged.Count);
        var newSeries = new List<EngineSeries>();
        var touched = new HashSet<SymbolTable>();
        var skipped = 0;
        try
        {
            foreach (var entry in logged)
            {
                var row = Symbolize(entry.Profile, newSeries, touched);
                if (row is null)
                {
                    skipped++;
                }
                else
                {
                    rows.Add(row.Value);
                    storedAt[row.Value.Item2.Id] = entry.Profile.Meta.StoredAt.Ticks;
                }
            }

            var commit = await BuildCommitAsync(logged[^1].Position, rows, storedAt, newSeries, touched, cancellationToken).ConfigureAwait(false);
            await _store.CommitAsync(commit, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            foreach (var table in touched)
            {
                lock (table.Sync)
                {
                    table.DiscardPending();
                }
            }

            _catalog.DiscardSeries(newSeries);
            throw;
        }

        foreach (var table in touched)
        {
            lock (table.Sync)
            {
                table.MarkDurable();
            }
        }

        _catalog.Advance(logged[^1].Position);
        Skipped += skipped;
        return logged.Count;
    }

    private (EngineSeries, ProfileRow)? Symbolize(Storage.StoredProfile stored, List<EngineSeries> newSeries, HashSet<SymbolTable> touched)
    {
        var meta = stored.Meta;
        if (meta.Type is ProfileType.Trace or ProfileType.Unknown)
        {
            return null;
        }

        Profile profile;
        try
        {
            profile = ProfileDecoder.Decode(stored.Data.Span, _decoderOptions);
        }
        catch (ProfileFormatException)
        {
            return null;
        }

        var (series, isNew) = _catalog.SeriesFor(meta.Tenant.Key, meta.Service, meta.Type, meta.Labels);
        if (isNew)
        {
            newSeries.Add(series);
        }

        var table = _catalog.SymbolsOf(series.Tenant, series.Service);
        touched.Add(table);
        lock (table.Sync)
        {
            try
            {
                return (series, _symbolizers.GetValue(table, static t => new ProfileSymbolizer(t)).Symbolize(profile, meta.ProfileId, meta.CreatedAt));
            }
            catch (ProfileFormatException)
            {
                return null;
            }
        }
    }

    private async Task<EngineCommit> BuildCommitAsync(
        long cursor, List<(EngineSeries Series, ProfileRow Row)> rows, Dictionary<ProfileId, long> storedAt, List<EngineSeries> newSeries, HashSet<SymbolTable> touched, CancellationToken cancellationToken)
    {
        var deltas = new List<(string, string, byte[])>();
        foreach (var (tenant, service, table) in _catalog.AllSymbols())
        {
            if (!touched.Contains(table))
            {
                continue;
            }

            lock (table.Sync)
            {
                if (table.HasPending)
                {
                    var writer = new ColumnWriter();
                    table.WritePending(writer);
                    deltas.Add((tenant, service, ProfileBlockCodec.Compress(writer.Written)));
                }
            }
        }

        // Rows of a bucket in creation order (then id), the order a raw merge folds them in.
        rows.Sort(static (a, b) => a.Series.Id != b.Series.Id ? a.Series.Id.CompareTo(b.Series.Id) : CompareByTime(a.Row, b.Row));

        // The hour and day rollups the cut adds to, read up front in one query per hour and day: one read per series
        // is a round trip each on shared storage, where a fleet's cut touches thousands of series. Series new in this
        // cut have none.
        var fresh = new HashSet<int>(newSeries.Count);
        foreach (var series in newSeries)
        {
            fresh.Add(series.Id);
        }

        var hourKeys = new List<(int Series, long Bucket)>();
        var dayKeys = new List<(int Series, long Bucket)>();
        foreach (var (series, row) in rows)
        {
            hourKeys.Add((series.Id, EngineCatalog.BucketOf(row.CreatedAt.Ticks)));
            dayKeys.Add((series.Id, EngineCatalog.DayOf(row.CreatedAt.Ticks)));
        }

        var hours = await ReadRollupsAsync(_store, hourKeys, EngineCatalog.BucketTicks, fresh, cancellationToken).ConfigureAwait(false);
        var days = await ReadRollupsAsync(_store, dayKeys, EngineCatalog.DayTicks, fresh, cancellationToken).ConfigureAwait(false);

        var blocks = new List<NewBlock>();
        var rollups = new List<StoredRollup>();
        var entries = new List<EngineProfileEntry>(rows.Count);
        var start = 0;
        while (start < rows.Count)
        {
            var series = rows[start].Series;
            var bucket = EngineCatalog.BucketOf(rows[start].Row.CreatedAt.Ticks);
            var end = start;
            var group = new List<ProfileRow>();
            while (end < rows.Count && rows[end].Series.Id == series.Id && EngineCatalog.BucketOf(rows[end].Row.CreatedAt.Ticks) == bucket)
            {
                group.Add(rows[end].Row);
                end++;
            }

            blocks.Add(new NewBlock(series.Id, bucket, group.Count, group[0].CreatedAt.Ticks, group[^1].CreatedAt.Ticks, ProfileBlockCodec.Encode(group)));
            rollups.AddRange(await RollupsAsync(series, bucket, group, hours.GetValueOrDefault((series.Id, bucket)), cancellationToken).ConfigureAwait(false));
            foreach (var row in group)
            {
                entries.Add(new EngineProfileEntry(row.Id, series.Id, row.CreatedAt.Ticks, storedAt[row.Id], RowTotals(row)));
            }

            start = end;
        }

        rollups.AddRange(await DayRollups.UpdateAsync(_store, rollups, rows, days, fresh, cancellationToken).ConfigureAwait(false));
        return new EngineCommit(cursor, newSeries, deltas, blocks, rollups, entries);
    }

    // The hour's rollup with the new rows folded in, one per layout seen. A row older than the newest one already
    // folded in means the fold order changed: the rollup is rebuilt from all the hour's blocks.
    private async Task<IEnumerable<StoredRollup>> RollupsAsync(EngineSeries series, long bucket, List<ProfileRow> group, StoredRollup? existing, CancellationToken cancellationToken)
    {
        if (existing is not null && group[0].CreatedAt.Ticks >= existing.LastKey)
        {
            var aggregate = RollupCodec.Read(existing.Data);
            foreach (var row in group)
            {
                if (row.Header.Layout == aggregate.Layout)
                {
                    aggregate.Add(row);
                }
            }

            return [ToRollup(series.Id, bucket, aggregate, group[^1].CreatedAt.Ticks)];
        }

        var fold = group;
        if (existing is not null)
        {
            fold = [];
            foreach (var block in await _store.ReadBlocksAsync(series.Id, bucket, cancellationToken).ConfigureAwait(false))
            {
                fold.AddRange(ProfileBlockCodec.Decode(block.Data));
            }

            fold.AddRange(group);
            fold.Sort(CompareByTime);
        }

        var table = _catalog.SymbolsOf(series.Tenant, series.Service);
        var rebuilt = Fold(fold, table);
        return rebuilt is null ? [] : [ToRollup(series.Id, bucket, rebuilt, fold[^1].CreatedAt.Ticks)];
    }

    /// <summary>
    /// The stored rollups of <paramref name="span"/> for <paramref name="keys"/> (series, bucket start), leaving out
    /// <paramref name="fresh"/> series (not committed yet, so without any); one read per distinct bucket.
    /// </summary>
    public static async Task<Dictionary<(int Series, long Bucket), StoredRollup>> ReadRollupsAsync(
        IProfileEngineStore store, IReadOnlyList<(int Series, long Bucket)> keys, long span, IReadOnlySet<int> fresh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(fresh);
        var wanted = new HashSet<(int, long)>();
        var byBucket = new SortedDictionary<long, List<int>>();
        foreach (var key in keys)
        {
            if (fresh.Contains(key.Series) || !wanted.Add(key))
            {
                continue;
            }

            if (!byBucket.TryGetValue(key.Bucket, out var series))
            {
                series = [];
                byBucket[key.Bucket] = series;
            }

            series.Add(key.Series);
        }

        var found = new Dictionary<(int Series, long Bucket), StoredRollup>();
        foreach (var (bucket, series) in byBucket)
        {
            foreach (var rollup in await store.ReadRollupsAsync(series, span, bucket, bucket, withData: true, cancellationToken).ConfigureAwait(false))
            {
                found[(rollup.Series, rollup.Bucket)] = rollup;
            }
        }

        return found;
    }

    /// <summary>Rows in creation order, then id: the order a raw merge folds them in.</summary>
    public static int CompareByTime(ProfileRow a, ProfileRow b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.CreatedAt != b.CreatedAt ? a.CreatedAt.CompareTo(b.CreatedAt) : a.Id.CompareTo(b.Id);
    }

    /// <summary>
    /// The rollup of one bucket's rows, given in time order. Rows of a second layout in one series (an agent
    /// changed its sample types) stay out of it; merges then disagree with raw merges, which fail on such a pair.
    /// </summary>
    public static ProfileAggregate? Fold(IReadOnlyList<ProfileRow> rows, SymbolTable table)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(table);
        ProfileAggregate? aggregate = null;
        foreach (var row in rows)
        {
            if (aggregate is null)
            {
                lock (table.Sync)
                {
                    aggregate = new ProfileAggregate(row.Header.Layout, table.ValuesPerSample(row.Header.Layout));
                }
            }

            if (row.Header.Layout == aggregate.Layout)
            {
                aggregate.Add(row);
            }
        }

        return aggregate;
    }

    public static StoredRollup ToRollup(int series, long bucket, ProfileAggregate aggregate, long lastKey)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        return new StoredRollup(series, EngineCatalog.BucketTicks, bucket, aggregate.Count, aggregate.Totals, lastKey, RollupCodec.Write(aggregate));
    }

    public static long[] RowTotals(ProfileRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var width = row.SampleCount == 0 ? 0 : row.Values.Length / row.SampleCount;
        var totals = new long[width];
        for (var i = 0; i < row.Values.Length; i++)
        {
            totals[i % width] += row.Values[i];
        }

        return totals;
    }
}
