using Profefe.Core.Engine.Blocks;

namespace Profefe.Core.Engine;

/// <summary>
/// Merges the small blocks that successive cuts leave in one (series, hour) into one block, in creation order.
/// One pass replaces every bucket it merged in one transaction (on shared storage, one object for all of them):
/// a crash leaves either the old blocks or the new ones, never both.
/// </summary>
public sealed class BlockCompactor
{
    private readonly IProfileEngineStore _store;

    public BlockCompactor(IProfileEngineStore store) => _store = store;

    /// <summary>Compacts up to <paramref name="max"/> buckets; returns how many.</summary>
    public async Task<int> CompactAsync(int max, CancellationToken cancellationToken)
    {
        var buckets = await _store.ListFragmentedBucketsAsync(max, cancellationToken).ConfigureAwait(false);
        var replacements = new List<BlockReplacement>(buckets.Count);
        foreach (var (series, bucket) in buckets)
        {
            var blocks = await _store.ReadBlocksAsync(series, bucket, cancellationToken).ConfigureAwait(false);
            if (blocks.Count < 2)
            {
                continue;
            }

            var rows = new List<ProfileRow>();
            var ids = new List<long>(blocks.Count);
            foreach (var block in blocks)
            {
                rows.AddRange(ProfileBlockCodec.Decode(block.Data));
                ids.Add(block.Id);
            }

            rows.Sort(BlockCutter.CompareByTime);
            replacements.Add(new BlockReplacement(ids, new NewBlock(series, bucket, rows.Count, rows[0].CreatedAt.Ticks, rows[^1].CreatedAt.Ticks, ProfileBlockCodec.Encode(rows))));
        }

        if (replacements.Count > 0)
        {
            await _store.ReplaceBlocksAsync(replacements, cancellationToken).ConfigureAwait(false);
        }

        return buckets.Count;
    }
}
