using Profefe.Core.Engine.Blocks;
using Profefe.Core.Profiles;

namespace Profefe.Core.Engine;

/// <summary>
/// Deletes the engine's profiles stored before a cutoff, as raw retention does: an hour whose profiles all
/// expired goes whole (its blocks, rollup and entries in one transaction); an hour with some left is rewritten as
/// one block of the rest and its rollup folded again from them.
/// </summary>
public sealed class EngineRetention
{
    private const int BucketsPerPass = 256;

    private readonly EngineCatalog _catalog;
    private readonly IProfileEngineStore _store;

    public EngineRetention(EngineCatalog catalog, IProfileEngineStore store)
    {
        _catalog = catalog;
        _store = store;
    }

    /// <summary>Returns how many profiles went.</summary>
    public async Task<long> DeleteStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        var storedBefore = cutoff.Ticks;
        var deleted = 0L;
        var days = new SortedSet<(int Series, long Day)>();
        while (true)
        {
            var buckets = await _store.ListExpiredBucketsAsync(storedBefore, BucketsPerPass, cancellationToken).ConfigureAwait(false);
            foreach (var bucket in buckets)
            {
                if (bucket.Expired == bucket.Total)
                {
                    await _store.ReplaceBucketAsync(bucket.Series, bucket.Bucket, storedBefore, null, null, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await RewriteAsync(bucket, storedBefore, cancellationToken).ConfigureAwait(false);
                }

                deleted += bucket.Expired;
                days.Add((bucket.Series, EngineCatalog.DayOf(bucket.Bucket)));
            }

            if (buckets.Count < BucketsPerPass)
            {
                break;
            }
        }

        foreach (var (series, day) in days)
        {
            var folded = await DayRollups.FoldAsync(_store, series, day, [], readStored: true, cancellationToken).ConfigureAwait(false);
            await _store.PutRollupsAsync(folded is null ? [] : [folded], folded is null ? [(series, EngineCatalog.DayTicks, day)] : [], cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    private async Task RewriteAsync(ExpiredBucket bucket, long storedBefore, CancellationToken cancellationToken)
    {
        var expired = new HashSet<ProfileId>();
        foreach (var entry in await _store.FindProfilesAsync([bucket.Series], bucket.Bucket, bucket.Bucket + EngineCatalog.BucketTicks - 1, cancellationToken).ConfigureAwait(false))
        {
            if (entry.StoredAt < storedBefore)
            {
                expired.Add(entry.Id);
            }
        }

        var kept = new List<ProfileRow>();
        foreach (var stored in await _store.ReadBlocksAsync(bucket.Series, bucket.Bucket, cancellationToken).ConfigureAwait(false))
        {
            foreach (var row in ProfileBlockCodec.Decode(stored.Data))
            {
                if (!expired.Contains(row.Id))
                {
                    kept.Add(row);
                }
            }
        }

        kept.Sort(BlockCutter.CompareByTime);
        var series = _catalog.Series(bucket.Series);
        var aggregate = kept.Count == 0 ? null : BlockCutter.Fold(kept, _catalog.SymbolsOf(series.Tenant, series.Service));
        var block = kept.Count == 0 ? null : new NewBlock(bucket.Series, bucket.Bucket, kept.Count, kept[0].CreatedAt.Ticks, kept[^1].CreatedAt.Ticks, ProfileBlockCodec.Encode(kept));
        var rollup = aggregate is null ? null : BlockCutter.ToRollup(bucket.Series, bucket.Bucket, aggregate, kept[^1].CreatedAt.Ticks);
        await _store.ReplaceBucketAsync(bucket.Series, bucket.Bucket, storedBefore, block, rollup, cancellationToken).ConfigureAwait(false);
    }
}
