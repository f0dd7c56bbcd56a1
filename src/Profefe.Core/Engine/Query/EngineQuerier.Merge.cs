using Profefe.Core.Engine.Blocks;
using Profefe.Core.Engine.Symbols;
using Profefe.Core.Storage;
using Profefe.Pprof;

namespace Profefe.Core.Engine.Query;

/// <summary>Merges: rollups of whole days and hours, rows of the partial hours at the edges, folded in time order.</summary>
public sealed partial class EngineQuerier
{
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

        // The rollups and the (at most two) partial hours' blocks are read at once, folded in time order after: on
        // shared storage every read is a round trip to PostgreSQL and object storage.
        var edges = new List<(long Bucket, Task<IReadOnlyList<StoredBlock>> Blocks)>();
        foreach (var edge in EdgeBuckets(from, to, firstFull, lastFull))
        {
            edges.Add((edge, _store.ReadBlocksAsync(ids, edge, cancellationToken)));
        }

        var reading = firstFull <= lastFull ? ReadWholeAsync(ids, firstFull, lastFull, cancellationToken) : Task.FromResult(new List<StoredRollup>());
        var reads = new List<Task>(edges.Count + 1) { reading };
        foreach (var (_, blocks) in edges)
        {
            reads.Add(blocks);
        }

        // Every read ends (none left running unobserved) before the first failure is thrown.
        await Task.WhenAll(reads).ConfigureAwait(false);
        var rollups = await reading.ConfigureAwait(false);

        // Fold hour by hour, in time order: the edges' rows before and after the rollups between them.
        var table = _catalog.SymbolsOf(tenant, service);
        var state = new MergeState(table, maxRows);
        foreach (var (edge, blocks) in edges)
        {
            if (firstFull > lastFull || edge < firstFull)
            {
                FoldEdge(await blocks.ConfigureAwait(false), from, to, state);
            }
        }

        foreach (var rollup in rollups)
        {
            state.Add(RollupCodec.Read(rollup.Data));
        }

        foreach (var (edge, blocks) in edges)
        {
            if (firstFull <= lastFull && edge > lastFull)
            {
                FoldEdge(await blocks.ConfigureAwait(false), from, to, state);
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

    // The rollups of the whole hours [firstHour, lastHour], in time order: whole days from day rollups, the hours
    // around them from hour rollups (the up to three reads at once).
    private async Task<List<StoredRollup>> ReadWholeAsync(List<int> ids, long firstHour, long lastHour, CancellationToken cancellationToken)
    {
        var day = EngineCatalog.DayTicks;
        var hour = EngineCatalog.BucketTicks;
        var firstDay = EngineCatalog.DayOf(firstHour) < firstHour ? EngineCatalog.DayOf(firstHour) + day : firstHour;
        var lastDay = EngineCatalog.DayOf(lastHour + hour) - day;
        var reads = new List<Task<IReadOnlyList<StoredRollup>>>(3);
        if (firstDay > lastDay)
        {
            reads.Add(_store.ReadRollupsAsync(ids, hour, firstHour, lastHour, withData: true, cancellationToken));
        }
        else
        {
            if (firstHour < firstDay)
            {
                reads.Add(_store.ReadRollupsAsync(ids, hour, firstHour, firstDay - 1, withData: true, cancellationToken));
            }

            reads.Add(_store.ReadRollupsAsync(ids, day, firstDay, lastDay, withData: true, cancellationToken));
            if (lastDay + day <= lastHour)
            {
                reads.Add(_store.ReadRollupsAsync(ids, hour, lastDay + day, lastHour, withData: true, cancellationToken));
            }
        }

        var rollups = new List<StoredRollup>();
        foreach (var part in await Task.WhenAll(reads).ConfigureAwait(false))
        {
            rollups.AddRange(part);
        }

        return rollups;
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

    private static void FoldEdge(IReadOnlyList<StoredBlock> blocks, long from, long to, MergeState state)
    {
        var rows = new List<ProfileRow>();
        foreach (var block in blocks)
        {
            foreach (var row in ProfileBlockCodec.Decode(block.Data))
            {
                if (row.CreatedAt.Ticks >= from && row.CreatedAt.Ticks <= to)
                {
                    rows.Add(row);
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
