using Profefe.Core.Profiles;

namespace Profefe.Core.Engine;

/// <summary>
/// Where the profile engine keeps what it builds: symbol deltas, series, blocks, rollups and the per-profile
/// index, each keyed by tenant first (through the series). The embedded store keeps them in its data directory;
/// shared storage would keep blocks as objects and the rest in PostgreSQL. Every commit is atomic: after a crash
/// the store holds a commit whole or not at all, and the cursor says how far into the write log it got.
/// </summary>
public interface IProfileEngineStore
{
    Task<EngineSnapshot> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Writes everything in <paramref name="commit"/> and its cursor in one transaction.</summary>
    Task CommitAsync(EngineCommit commit, CancellationToken cancellationToken);

    /// <summary>
    /// Rollups of <paramref name="series"/> spanning <paramref name="span"/> ticks (an hour or a day) for buckets in
    /// [fromBucket, toBucket] (bucket start ticks), ascending by bucket then series.
    /// </summary>
    Task<IReadOnlyList<StoredRollup>> ReadRollupsAsync(IReadOnlyList<int> series, long span, long fromBucket, long toBucket, bool withData, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="put"/> and deletes <paramref name="delete"/> (series, span, bucket) in one transaction.</summary>
    Task PutRollupsAsync(IReadOnlyList<StoredRollup> put, IReadOnlyList<(int Series, long Span, long Bucket)> delete, CancellationToken cancellationToken);

    /// <summary>Blocks of one series' bucket, oldest first.</summary>
    Task<IReadOnlyList<StoredBlock>> ReadBlocksAsync(int series, long bucket, CancellationToken cancellationToken);

    /// <summary>Blocks of several series' same bucket in one read: series by series in the order given, each oldest first.</summary>
    Task<IReadOnlyList<StoredBlock>> ReadBlocksAsync(IReadOnlyList<int> series, long bucket, CancellationToken cancellationToken);

    /// <summary>Per-profile entries of <paramref name="series"/> created in [from, to] (ticks), ascending by time then id.</summary>
    Task<IReadOnlyList<EngineProfileEntry>> FindProfilesAsync(IReadOnlyList<int> series, long from, long to, CancellationToken cancellationToken);

    /// <summary>
    /// Per-profile entries of <paramref name="series"/> created in any of the windows [start, start + width - 1]
    /// (ticks), one window per entry of <paramref name="starts"/> (ascending, not overlapping), in one read;
    /// ascending by time then id.
    /// </summary>
    Task<IReadOnlyList<EngineProfileEntry>> FindProfilesInWindowsAsync(IReadOnlyList<int> series, IReadOnlyList<long> starts, long width, CancellationToken cancellationToken);

    /// <summary>The entry of one profile, or null.</summary>
    Task<EngineProfileEntry?> GetProfileAsync(ProfileId id, CancellationToken cancellationToken);

    /// <summary>Buckets of any series that hold more than one block: what compaction should merge.</summary>
    Task<IReadOnlyList<(int Series, long Bucket)>> ListFragmentedBucketsAsync(int max, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces each replacement's blocks by its one new block, all in one transaction (on shared storage the new
    /// blocks share one object); changes nothing when any of the blocks is gone (another compaction got there first).
    /// </summary>
    Task ReplaceBlocksAsync(IReadOnlyList<BlockReplacement> replacements, CancellationToken cancellationToken);

    /// <summary>Buckets holding profiles stored before <paramref name="storedBefore"/> (ticks): how many expired, of how many.</summary>
    Task<IReadOnlyList<ExpiredBucket>> ListExpiredBucketsAsync(long storedBefore, int max, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: the bucket's blocks and rollup become <paramref name="block"/> and
    /// <paramref name="rollup"/> (none when null), and its entries stored before <paramref name="storedBefore"/> go.
    /// </summary>
    Task ReplaceBucketAsync(int series, long bucket, long storedBefore, NewBlock? block, StoredRollup? rollup, CancellationToken cancellationToken);

    /// <summary>Bytes the engine's data occupies.</summary>
    Task<long> GetBytesAsync(CancellationToken cancellationToken);
}

/// <summary>A series: the profiles of one tenant, service, type and label set.</summary>
public sealed record EngineSeries(int Id, string Tenant, string Service, ProfileType Type, IReadOnlyList<Label> Labels);

/// <summary>What the engine reads back at start-up.</summary>
public sealed record EngineSnapshot(
    long Cursor,
    IReadOnlyList<EngineSeries> Series,
    IReadOnlyList<(string Tenant, string Service, byte[] Delta)> SymbolDeltas);

/// <summary>One cut: everything it adds, and how far into the write log it read.</summary>
public sealed record EngineCommit(
    long Cursor,
    IReadOnlyList<EngineSeries> NewSeries,
    IReadOnlyList<(string Tenant, string Service, byte[] Delta)> SymbolDeltas,
    IReadOnlyList<NewBlock> Blocks,
    IReadOnlyList<StoredRollup> Rollups,
    IReadOnlyList<EngineProfileEntry> Profiles);

public sealed record NewBlock(int Series, long Bucket, int Count, long MinTime, long MaxTime, byte[] Data);

/// <summary>Blocks <paramref name="BlockIds"/> (of one series' bucket) merged into <paramref name="Block"/>.</summary>
public sealed record BlockReplacement(IReadOnlyList<long> BlockIds, NewBlock Block);

public sealed record StoredBlock(long Id, int Series, long Bucket, int Count, byte[] Data);

/// <param name="Totals">Sum of each sample type's values.</param>
/// <param name="Data">The aggregate (<see cref="ProfileAggregate.WriteTo"/>), compressed; empty when not asked for.</param>
/// <param name="LastKey">Creation ticks of the newest profile in it (to notice a late one).</param>
public sealed record StoredRollup(int Series, long Span, long Bucket, int Count, long[] Totals, long LastKey, byte[] Data);

/// <param name="StoredAt">When the collector stored it (ticks): retention goes by it, as for raw profiles.</param>
public sealed record EngineProfileEntry(ProfileId Id, int Series, long CreatedAt, long StoredAt, long[] Totals);

public sealed record ExpiredBucket(int Series, long Bucket, int Expired, int Total);
