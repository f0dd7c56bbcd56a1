using System.Collections.Concurrent;
using Npgsql;
using Profefe.Core.Engine;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Profiles;
using Profefe.Core.Storage.Objects;
using static Profefe.Storage.Postgres.PostgresProfileStorage;

namespace Profefe.Storage.Postgres.Engine;

/// <summary>
/// The profile engine's data on shared storage: series, symbol deltas, rollups, per-profile entries and the block
/// index in PostgreSQL (<see cref="PostgresEngineSchema"/>), the blocks themselves as objects
/// (<see cref="IEngineBlockObjects"/>) or, without object storage, in PostgreSQL too. A change PUTs all its blocks
/// as one object (a pack; each block's index row holds the pack's key, the block's offset and size, and reads fetch
/// only those ranges), then writes every row (and the cursor) in one transaction that first checks this store's
/// lease token under a row lock, so only the lease holder's changes ever commit. A pack a failed or lost commit
/// leaves behind is deleted by <see cref="DeleteOrphansAsync"/>; a pack whose last block a compaction or retention
/// replaced, right after that commits (no row points into it any more, and none ever will: keys are never reused).
/// </summary>
public sealed class PostgresEngineStore : ISharedEngineStore, IDisposable
{
    private const string LeaseName = "engine";
    private const int MaxBlockReadAttempts = 3;

    // The newest symbol seq as the writing transaction sees it, its own deltas included.
    private const string SymbolsUpto = "(SELECT coalesce(max(seq), 0) FROM engine_symbols)";

    private readonly PostgresProfileStorage _storage;
    private readonly IEngineBlockObjects? _objects;
    private readonly TimeSpan _orphanMinAge;
    private readonly TimeProvider _timeProvider;
    // Without it every merge touching a partial hour fetches the same blocks again, one GET each, where the embedded
    // store reads them from its page cache.
    private readonly ImmutableBytesCache<ObjectRange<string>> _blockCache;

    // This store's name in the lease table: one per collector process.
    private readonly string _holder = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<int, string> _tenants = new();
    private long _token;

    // The newest series id and symbol seq this store loaded or committed: where the next read of changes starts.
    private int _knownSeries;
    private long _knownSymbols;

    // The catalog RefreshAsync keeps up to date; one refresh at a time, so no delta is ever restored twice.
    private EngineCatalog? _catalog;
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    /// <param name="objects">Where blocks go; null keeps them in PostgreSQL.</param>
    /// <param name="orphanMinAge">How old an unindexed object must be before it counts as an orphan, not a commit in flight.</param>
    /// <param name="blockCacheBytes">Bytes of block ranges read from <paramref name="objects"/> kept in memory for the next reads (0: none).</param>
    public PostgresEngineStore(PostgresProfileStorage storage, IEngineBlockObjects? objects, TimeSpan orphanMinAge, TimeProvider? timeProvider = null, long blockCacheBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        _objects = objects;
        _orphanMinAge = orphanMinAge;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _blockCache = new ImmutableBytesCache<ObjectRange<string>>(blockCacheBytes);
    }

    private NpgsqlDataSource DataSource => _storage.DataSource;

    public Task<EngineSnapshot> LoadAsync(CancellationToken cancellationToken) => ReadSinceAsync(0, 0, cancellationToken);

    public async Task RefreshAsync(EngineCatalog catalog, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        await RefreshAsync(catalog, 0, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryHoldLeaseAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        await _storage.InitializeEngineAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A new holder bumps the token, so whatever the previous one still tries to commit fails its check.
            await using var command = Command(DataSource, """
                INSERT INTO engine_lease(name, holder, token, expires_at) VALUES ($1, $2, 1, now() + $3)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
                    token = CASE WHEN engine_lease.holder = excluded.holder THEN engine_lease.token ELSE engine_lease.token + 1 END
                WHERE engine_lease.holder = excluded.holder OR engine_lease.expires_at < now()
                RETURNING token
                """, LeaseName, _holder, duration);
            var token = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _token, token is long held ? held : 0);
            return token is long;
        }
        catch (Exception exception)
        {
            throw _storage.ToUnavailable(exception);
        }
    }

    public async Task CommitAsync(EngineCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        foreach (var series in commit.NewSeries)
        {
            _tenants[series.Id] = series.Tenant;
        }

        var pack = await PutPackAsync(commit.Blocks, cancellationToken).ConfigureAwait(false);
        var maxSeries = 0;
        var maxSymbols = 0L;
        await ChangeAsync(pack.Keys, async (connection, transaction) =>
        {
            // The catalog this cut was made against must hold every series and symbol committed: otherwise its new
            // series ids or symbol ids would collide with ones it has not seen.
            await using (var check = Command(connection, transaction, "SELECT (SELECT coalesce(max(series_id), 0) FROM engine_series), (SELECT coalesce(max(seq), 0) FROM engine_symbols)"))
            await using (var known = await check.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await known.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (known.GetInt32(0) != Volatile.Read(ref _knownSeries) || known.GetInt64(1) != Interlocked.Read(ref _knownSymbols))
                {
                    throw new EngineLeaseLostException("the engine's catalog is behind what is committed; it reloads before the next cut");
                }
            }

            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var series in commit.NewSeries)
            {
                batch.BatchCommands.Add(Command("INSERT INTO engine_series(tenant, series_id, service, type, labels) VALUES ($1, $2, $3, $4, $5)",
                    series.Tenant, series.Id, series.Service, (short)series.Type, EngineRowCodec.WriteLabels(series.Labels)));
                maxSeries = Math.Max(maxSeries, series.Id);
            }

            foreach (var (tenant, service, delta) in commit.SymbolDeltas)
            {
                batch.BatchCommands.Add(Command("INSERT INTO engine_symbols(tenant, service, delta) VALUES ($1, $2, $3)", tenant, service, delta));
            }

            for (var i = 0; i < commit.Blocks.Count; i++)
            {
                batch.BatchCommands.Add(InsertBlock(commit.Blocks[i], pack, i));
            }

            foreach (var rollup in commit.Rollups)
            {
                batch.BatchCommands.Add(UpsertRollup(rollup));
            }

            if (commit.Profiles.Count > 0)
            {
                var entries = commit.Profiles;
                batch.BatchCommands.Add(Command("""
                    INSERT INTO engine_entries(tenant, series_id, created_at, id, stored_at, totals)
                    SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bytea[], $5::bigint[], $6::bytea[])
                    ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, series_id = excluded.series_id, created_at = excluded.created_at, stored_at = excluded.stored_at, totals = excluded.totals
                    """,
                    Map(entries, e => TenantOf(e.Series)), Map(entries, static e => e.Series), Map(entries, static e => e.CreatedAt),
                    Map(entries, static e => e.Id.ToBytes()), Map(entries, static e => e.StoredAt), Map(entries, static e => EngineRowCodec.WriteTotals(e.Totals))));
            }

            batch.BatchCommands.Add(Command("INSERT INTO engine_state(key, value) VALUES ('cursor', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", commit.Cursor));
            batch.BatchCommands.Add(Command("SELECT coalesce(max(seq), 0) FROM engine_symbols"));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            do
            {
                if (reader.FieldCount == 1 && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    maxSymbols = reader.GetInt64(0);
                }
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
            return true;
        }, cancellationToken).ConfigureAwait(false);

        if (maxSeries > 0)
        {
            Volatile.Write(ref _knownSeries, maxSeries);
        }

        Interlocked.Exchange(ref _knownSymbols, maxSymbols);
    }

    public async Task<IReadOnlyList<StoredRollup>> ReadRollupsAsync(IReadOnlyList<int> series, long span, long fromBucket, long toBucket, bool withData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        var rollups = new List<StoredRollup>();
        var neededSymbols = 0L;
        await ReadAsync(Command(DataSource, $"""
            SELECT r.series_id, r.bucket, r.count, r.last_key, r.totals, {(withData ? "r.data" : "''::bytea")}, r.symbols_upto
            FROM unnest($1::text[], $2::integer[]) AS s(tenant, series_id) CROSS JOIN LATERAL (
                SELECT r.series_id, r.bucket, r.count, r.last_key, r.totals, r.data, r.symbols_upto FROM engine_rollups r
                WHERE r.tenant = s.tenant AND r.series_id = s.series_id AND r.span = $3 AND r.bucket BETWEEN $4 AND $5 OFFSET 0) r
            ORDER BY r.bucket, r.series_id
            """, TenantsOf(series), series.ToArray(), span, fromBucket, toBucket),
            reader =>
            {
                rollups.Add(new StoredRollup(reader.GetInt32(0), span, reader.GetInt64(1), reader.GetInt32(2), EngineRowCodec.ReadTotals(reader.GetFieldValue<byte[]>(4)), reader.GetInt64(3), reader.GetFieldValue<byte[]>(5)));
                neededSymbols = Math.Max(neededSymbols, reader.GetInt64(6));
            },
            cancellationToken).ConfigureAwait(false);
        await CatchUpSymbolsAsync(neededSymbols, cancellationToken).ConfigureAwait(false);
        return rollups;
    }

    public async Task PutRollupsAsync(IReadOnlyList<StoredRollup> put, IReadOnlyList<(int Series, long Span, long Bucket)> delete, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(put);
        ArgumentNullException.ThrowIfNull(delete);
        await ChangeAsync([], async (connection, transaction) =>
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var (series, span, bucket) in delete)
            {
                batch.BatchCommands.Add(Command("DELETE FROM engine_rollups WHERE tenant = $1 AND series_id = $2 AND span = $3 AND bucket = $4", TenantOf(series), series, span, bucket));
            }

            foreach (var rollup in put)
            {
                batch.BatchCommands.Add(UpsertRollup(rollup));
            }

            if (batch.BatchCommands.Count > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<StoredBlock>> ReadBlocksAsync(int series, long bucket, CancellationToken cancellationToken) =>
        ReadBlocksAsync([series], bucket, cancellationToken);

    public async Task<IReadOnlyList<StoredBlock>> ReadBlocksAsync(IReadOnlyList<int> series, long bucket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0)
        {
            return [];
        }

        for (var attempt = 1; ; attempt++)
        {
            // One index read for every series and one round of ranged GETs (in parallel) for the blocks not cached:
            // a merge's partial hour over ten series was ten index reads and ten GETs one after another.
            var rows = new List<(int Series, long Id, int Count, byte[]? Data)>();
            var ranges = new List<ObjectRange<string>>();
            var neededSymbols = 0L;
            await ReadAsync(Command(DataSource, """
                SELECT b.series_id, b.block_id, b.count, b.object_key, b.object_offset, b.size, b.data, b.symbols_upto
                FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS s(tenant, series_id, n) CROSS JOIN LATERAL (
                    SELECT * FROM engine_blocks b WHERE b.tenant = s.tenant AND b.series_id = s.series_id AND b.bucket = $3 OFFSET 0) b
                ORDER BY s.n, b.block_id
                """, TenantsOf(series), series.ToArray(), bucket),
                reader =>
                {
                    var data = reader.IsDBNull(6) ? null : reader.GetFieldValue<byte[]>(6);
                    if (data is null)
                    {
                        var range = new ObjectRange<string>(reader.GetString(3), reader.GetInt64(4), checked((int)reader.GetInt64(5)));
                        if (_blockCache.TryGet(range, out var cached))
                        {
                            data = cached;
                        }
                        else
                        {
                            ranges.Add(range);
                        }
                    }

                    rows.Add((reader.GetInt32(0), reader.GetInt64(1), reader.GetInt32(2), data));
                    neededSymbols = Math.Max(neededSymbols, reader.GetInt64(7));
                },
                cancellationToken).ConfigureAwait(false);
            await CatchUpSymbolsAsync(neededSymbols, cancellationToken).ConfigureAwait(false);

            var fetched = ranges.Count == 0 ? [] : await Objects.GetRangesAsync(ranges, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < fetched.Length; i++)
            {
                if (fetched[i] is { } bytes)
                {
                    _blockCache.Add(ranges[i], bytes);
                }
            }

            var blocks = new List<StoredBlock>(rows.Count);
            var next = 0;
            foreach (var (seriesId, id, count, data) in rows)
            {
                if ((data ?? fetched[next++]) is { } bytes)
                {
                    blocks.Add(new StoredBlock(id, seriesId, bucket, count, bytes));
                }
            }

            // A pack gone means a compaction or retention replaced its blocks after the index was read: read the index again.
            if (blocks.Count == rows.Count || attempt == MaxBlockReadAttempts)
            {
                return blocks.Count == rows.Count
                    ? blocks
                    : throw new InvalidOperationException($"block objects of bucket {bucket} keep vanishing while read");
            }
        }
    }

    public async Task<IReadOnlyList<EngineProfileEntry>> FindProfilesAsync(IReadOnlyList<int> series, long from, long to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        var entries = new List<EngineProfileEntry>();
        await ReadAsync(Command(DataSource, """
            SELECT e.id, e.series_id, e.created_at, e.stored_at, e.totals
            FROM unnest($1::text[], $2::integer[]) AS s(tenant, series_id) CROSS JOIN LATERAL (
                SELECT * FROM engine_entries e WHERE e.tenant = s.tenant AND e.series_id = s.series_id AND e.created_at BETWEEN $3 AND $4 OFFSET 0) e
            ORDER BY e.created_at, e.id
            """, TenantsOf(series), series.ToArray(), from, to),
            reader => entries.Add(ReadEntry(reader)), cancellationToken).ConfigureAwait(false);
        return entries;
    }

    public async Task<IReadOnlyList<EngineProfileEntry>> FindProfilesInWindowsAsync(IReadOnlyList<int> series, IReadOnlyList<long> starts, long width, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(starts);
        var entries = new List<EngineProfileEntry>();
        if (starts.Count == 0 || series.Count == 0)
        {
            return entries;
        }

        // Windows never overlap, so each entry joins at most one. Here and in the other reads by series, OFFSET 0 keeps
        // the LATERAL subquery whole: flattened, PostgreSQL hash-joins a sequential scan of every entry and filters
        // the windows afterwards (64 ms instead of 1.2 ms for a day of 10 series and 25 windows).
        await ReadAsync(Command(DataSource, """
            SELECT e.id, e.series_id, e.created_at, e.stored_at, e.totals
            FROM unnest($1::text[], $2::integer[]) AS s(tenant, series_id) CROSS JOIN unnest($3::bigint[]) AS w(start) CROSS JOIN LATERAL (
                SELECT * FROM engine_entries e WHERE e.tenant = s.tenant AND e.series_id = s.series_id AND e.created_at BETWEEN w.start AND w.start + $4 - 1 OFFSET 0) e
            ORDER BY e.created_at, e.id
            """, TenantsOf(series), series.ToArray(), starts.ToArray(), width),
            reader => entries.Add(ReadEntry(reader)), cancellationToken).ConfigureAwait(false);
        return entries;
    }

    public async Task<EngineProfileEntry?> GetProfileAsync(ProfileId id, CancellationToken cancellationToken)
    {
        EngineProfileEntry? entry = null;
        await ReadAsync(Command(DataSource, "SELECT id, series_id, created_at, stored_at, totals FROM engine_entries WHERE id = $1", id.ToBytes()),
            reader => entry = ReadEntry(reader), cancellationToken).ConfigureAwait(false);
        return entry;
    }

    public async Task<IReadOnlyList<(int Series, long Bucket)>> ListFragmentedBucketsAsync(int max, CancellationToken cancellationToken)
    {
        var buckets = new List<(int, long)>();
        await ReadAsync(Command(DataSource, "SELECT series_id, bucket FROM engine_blocks GROUP BY tenant, series_id, bucket HAVING count(*) > 1 LIMIT $1", max),
            reader => buckets.Add((reader.GetInt32(0), reader.GetInt64(1))), cancellationToken).ConfigureAwait(false);
        return buckets;
    }

    public async Task ReplaceBlocksAsync(IReadOnlyList<BlockReplacement> replacements, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        var blocks = new NewBlock[replacements.Count];
        var replacedIds = new List<long>();
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = replacements[i].Block;
            replacedIds.AddRange(replacements[i].BlockIds);
        }

        var pack = await PutPackAsync(blocks, cancellationToken).ConfigureAwait(false);
        var emptied = new List<string>();
        await ChangeAsync(pack.Keys, async (connection, transaction) =>
        {
            var replaced = new List<string>();
            await using (var delete = Command(connection, transaction, "DELETE FROM engine_blocks WHERE block_id = ANY($1) RETURNING object_key", replacedIds.ToArray()))
            await using (var reader = await delete.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                var deleted = 0;
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    deleted++;
                    if (!reader.IsDBNull(0))
                    {
                        replaced.Add(reader.GetString(0));
                    }
                }

                if (deleted != replacedIds.Count)
                {
                    // Another compaction got there first; leave its result alone.
                    return false;
                }
            }

            await using (var insert = new NpgsqlBatch(connection, transaction))
            {
                for (var i = 0; i < blocks.Length; i++)
                {
                    insert.BatchCommands.Add(InsertBlock(blocks[i], pack, i));
                }

                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            emptied.AddRange(await UnreferencedAsync(connection, transaction, replaced, cancellationToken).ConfigureAwait(false));
            return true;
        }, cancellationToken).ConfigureAwait(false);

        await DeleteObjectsQuietlyAsync(emptied, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ExpiredBucket>> ListExpiredBucketsAsync(long storedBefore, int max, CancellationToken cancellationToken)
    {
        var buckets = new List<ExpiredBucket>();
        await ReadAsync(Command(DataSource, """
            WITH expired AS (
                SELECT tenant, series_id, created_at - (created_at % $1) AS bucket, count(*) AS n FROM engine_entries
                WHERE stored_at < $2 GROUP BY tenant, series_id, bucket LIMIT $3)
            SELECT e.series_id, e.bucket, e.n::integer,
                (SELECT count(*) FROM engine_entries a WHERE a.tenant = e.tenant AND a.series_id = e.series_id AND a.created_at BETWEEN e.bucket AND e.bucket + $1 - 1)::integer
            FROM expired e
            """, EngineCatalog.BucketTicks, storedBefore, max),
            reader => buckets.Add(new ExpiredBucket(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3))), cancellationToken).ConfigureAwait(false);
        return buckets;
    }

    public async Task ReplaceBucketAsync(int series, long bucket, long storedBefore, NewBlock? block, StoredRollup? rollup, CancellationToken cancellationToken)
    {
        var pack = await PutPackAsync(block is null ? [] : [block], cancellationToken).ConfigureAwait(false);
        var tenant = TenantOf(series);
        var emptied = new List<string>();
        await ChangeAsync(pack.Keys, async (connection, transaction) =>
        {
            var replaced = new List<string>();
            await using (var delete = Command(connection, transaction, "DELETE FROM engine_blocks WHERE tenant = $1 AND series_id = $2 AND bucket = $3 RETURNING object_key", tenant, series, bucket))
            await using (var reader = await delete.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!reader.IsDBNull(0))
                    {
                        replaced.Add(reader.GetString(0));
                    }
                }
            }

            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(Command("DELETE FROM engine_rollups WHERE tenant = $1 AND series_id = $2 AND span = $3 AND bucket = $4", tenant, series, EngineCatalog.BucketTicks, bucket));
            batch.BatchCommands.Add(Command("DELETE FROM engine_entries WHERE tenant = $1 AND series_id = $2 AND created_at BETWEEN $3 AND $3 + $4 - 1 AND stored_at < $5",
                tenant, series, bucket, EngineCatalog.BucketTicks, storedBefore));
            if (block is not null)
            {
                batch.BatchCommands.Add(InsertBlock(block, pack, 0));
            }

            if (rollup is not null)
            {
                batch.BatchCommands.Add(UpsertRollup(rollup));
            }

            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            emptied.AddRange(await UnreferencedAsync(connection, transaction, replaced, cancellationToken).ConfigureAwait(false));
            return true;
        }, cancellationToken).ConfigureAwait(false);

        // Other blocks of the same cut may still point into a pack: only one nothing points into goes.
        await DeleteObjectsQuietlyAsync(emptied, cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> GetBytesAsync(CancellationToken cancellationToken)
    {
        var bytes = 0L;
        await ReadAsync(Command(DataSource, """
            SELECT (SELECT coalesce(sum(size), 0) FROM engine_blocks WHERE object_key IS NOT NULL)::bigint
                + (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                   WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'engine\_%')::bigint
            """), reader => bytes = reader.GetInt64(0), cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    public async Task<long> ReadCursorAsync(CancellationToken cancellationToken)
    {
        await _storage.InitializeEngineAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = Command(DataSource, "SELECT coalesce((SELECT value FROM engine_state WHERE key = 'cursor'), 0)");
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception exception)
        {
            throw _storage.ToUnavailable(exception);
        }
    }

    public async Task<int> DeleteOrphansAsync(CancellationToken cancellationToken)
    {
        if (_objects is null)
        {
            return 0;
        }

        var deleted = 0;
        var before = _timeProvider.GetUtcNow().UtcDateTime - _orphanMinAge;
        await foreach (var page in _objects.ListWrittenBeforeAsync(before, cancellationToken).ConfigureAwait(false))
        {
            var indexed = new HashSet<string>(StringComparer.Ordinal);
            await ReadAsync(Command(DataSource, "SELECT object_key FROM engine_blocks WHERE object_key = ANY($1)", (object)page.ToArray()),
                reader => indexed.Add(reader.GetString(0)), cancellationToken).ConfigureAwait(false);
            var orphans = page.Where(key => !indexed.Contains(key)).ToList();
            if (orphans.Count > 0)
            {
                await _objects.DeleteAsync(orphans, cancellationToken).ConfigureAwait(false);
                deleted += orphans.Count;
            }
        }

        return deleted;
    }

    /// <summary>
    /// Loads what was committed since into <paramref name="catalog"/>, unless it already has every symbol up to
    /// <paramref name="neededSymbols"/> (0: always).
    /// </summary>
    private async Task RefreshAsync(EngineCatalog catalog, long neededSymbols, CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (neededSymbols == 0 || neededSymbols > Interlocked.Read(ref _knownSymbols))
            {
                catalog.Load(await ReadSinceAsync(Volatile.Read(ref _knownSeries), Interlocked.Read(ref _knownSymbols), cancellationToken).ConfigureAwait(false));
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>
    /// Rows written with symbols this collector's catalog lacks (the lease holder committed after the last refresh):
    /// load them before a query uses the rows. The holder itself never needs to, and must not while it cuts.
    /// </summary>
    private Task CatchUpSymbolsAsync(long neededSymbols, CancellationToken cancellationToken) =>
        _catalog is { } catalog && Interlocked.Read(ref _token) == 0 && neededSymbols > Interlocked.Read(ref _knownSymbols)
            ? RefreshAsync(catalog, neededSymbols, cancellationToken)
            : Task.CompletedTask;

    public void Dispose() => _refreshing.Dispose();

    private IEngineBlockObjects Objects => _objects ?? throw new InvalidOperationException("a block without bytes in PostgreSQL needs object storage");

    private async Task<EngineSnapshot> ReadSinceAsync(int afterSeries, long afterSymbols, CancellationToken cancellationToken)
    {
        await _storage.InitializeEngineAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            // One snapshot for the three reads: the cursor never runs ahead of the series and symbols read with it.
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Command("SELECT coalesce((SELECT value FROM engine_state WHERE key = 'cursor'), 0)"),
                    Command("SELECT series_id, tenant, service, type, labels FROM engine_series WHERE series_id > $1 ORDER BY series_id", afterSeries),
                    Command("SELECT seq, tenant, service, delta FROM engine_symbols WHERE seq > $1 ORDER BY seq", afterSymbols),
                },
            };
            var cursor = 0L;
            var series = new List<EngineSeries>();
            var deltas = new List<(string, string, byte[])>();
            var lastSymbol = afterSymbols;
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                cursor = reader.GetInt64(0);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    series.Add(new EngineSeries(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), (ProfileType)reader.GetInt16(3), EngineRowCodec.ReadLabels(reader.GetFieldValue<byte[]>(4))));
                }

                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    lastSymbol = reader.GetInt64(0);
                    deltas.Add((reader.GetString(1), reader.GetString(2), ProfileBlockCodec.Decompress(reader.GetFieldValue<byte[]>(3))));
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            foreach (var s in series)
            {
                _tenants[s.Id] = s.Tenant;
            }

            Volatile.Write(ref _knownSeries, series.Count > 0 ? series[^1].Id : afterSeries);
            Interlocked.Exchange(ref _knownSymbols, lastSymbol);
            return new EngineSnapshot(cursor, series, deltas);
        }
        catch (Exception exception)
        {
            throw _storage.ToUnavailable(exception);
        }
    }

    /// <summary>
    /// Runs <paramref name="change"/> in one transaction after checking this store's lease token under a lock on
    /// the lease row (a takeover waits for the transaction, or the transaction sees the new token and aborts).
    /// Returns what <paramref name="change"/> returned (false rolls back); on failure deletes <paramref name="putKeys"/>.
    /// </summary>
    private async Task<bool> ChangeAsync(IReadOnlyList<string?> putKeys, Func<NpgsqlConnection, NpgsqlTransaction, Task<bool>> change, CancellationToken cancellationToken)
    {
        var committed = false;
        try
        {
            await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var fence = Command(connection, transaction, "SELECT token FROM engine_lease WHERE name = $1 AND holder = $2 FOR UPDATE", LeaseName, _holder))
            {
                var token = await fence.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                var mine = Interlocked.Read(ref _token);
                if (mine == 0 || token is not long held || held != mine)
                {
                    throw new EngineLeaseLostException("another collector holds the profile engine's lease; this change was not committed");
                }
            }

            if (await change(connection, transaction).ConfigureAwait(false))
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                committed = true;
            }

            return committed;
        }
        catch (Exception exception) when (exception is not EngineLeaseLostException)
        {
            throw _storage.ToUnavailable(exception);
        }
        finally
        {
            if (!committed)
            {
                await DeleteObjectsQuietlyAsync(putKeys, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// PUTs <paramref name="blocks"/> back to back as one object (nothing without object storage or without blocks);
    /// where each block lies in it.
    /// </summary>
    private async Task<BlockPack> PutPackAsync(IReadOnlyList<NewBlock> blocks, CancellationToken cancellationToken)
    {
        var offsets = new long[blocks.Count];
        if (_objects is null || blocks.Count == 0)
        {
            return new BlockPack(null, offsets);
        }

        var size = 0L;
        for (var i = 0; i < blocks.Count; i++)
        {
            offsets[i] = size;
            size += blocks[i].Data.Length;
        }

        var data = new byte[checked((int)size)];
        for (var i = 0; i < blocks.Count; i++)
        {
            blocks[i].Data.CopyTo(data, (int)offsets[i]);
        }

        var key = "packs/" + Guid.NewGuid().ToString("N");
        try
        {
            await _objects.PutAsync(key, data, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A PUT that failed may still have stored the object.
            await DeleteObjectsQuietlyAsync([key], CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        // The blocks just cut are the ones merges over the last hour read next: in the cache, the holder reads them
        // without a GET (under the load driver a merge right after a cut fetched hundreds of small ranges: 1.9 s).
        for (var i = 0; i < blocks.Count; i++)
        {
            _blockCache.Add(new ObjectRange<string>(key, offsets[i], blocks[i].Data.Length), blocks[i].Data);
        }

        return new BlockPack(key, offsets);
    }

    /// <summary>Which of <paramref name="keys"/> no block row points into any more, as this transaction sees it.</summary>
    private static async Task<List<string>> UnreferencedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<string> keys, CancellationToken cancellationToken)
    {
        var unreferenced = new List<string>();
        if (keys.Count == 0)
        {
            return unreferenced;
        }

        await using var command = Command(connection, transaction,
            "SELECT k FROM unnest($1::text[]) AS d(k) WHERE NOT EXISTS (SELECT 1 FROM engine_blocks b WHERE b.object_key = d.k) GROUP BY k", (object)keys.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            unreferenced.Add(reader.GetString(0));
        }

        return unreferenced;
    }

    // Whatever is left behind is an orphan, which DeleteOrphansAsync finds.
    private async Task DeleteObjectsQuietlyAsync(IReadOnlyList<string?> keys, CancellationToken cancellationToken)
    {
        var existing = keys.OfType<string>().ToList();
        if (_objects is null || existing.Count == 0)
        {
            return;
        }

        try
        {
            await _objects.DeleteAsync(existing, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Left for the orphan sweep.
        }
    }

    /// <summary>The index row of block <paramref name="index"/> of <paramref name="pack"/>.</summary>
    private NpgsqlBatchCommand InsertBlock(NewBlock block, BlockPack pack, int index) =>
        Command($"INSERT INTO engine_blocks(tenant, series_id, bucket, count, min_time, max_time, size, object_key, object_offset, data, symbols_upto) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, {SymbolsUpto})",
            TenantOf(block.Series), block.Series, block.Bucket, block.Count, block.MinTime, block.MaxTime, (long)block.Data.Length,
            pack.Key ?? (object)DBNull.Value, pack.Offsets[index], pack.Key is null ? block.Data : DBNull.Value);

    private NpgsqlBatchCommand UpsertRollup(StoredRollup rollup) =>
        Command($"""
            INSERT INTO engine_rollups(tenant, series_id, span, bucket, count, last_key, totals, data, symbols_upto) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {SymbolsUpto})
            ON CONFLICT (tenant, series_id, span, bucket) DO UPDATE SET count = excluded.count, last_key = excluded.last_key, totals = excluded.totals, data = excluded.data, symbols_upto = excluded.symbols_upto
            """, TenantOf(rollup.Series), rollup.Series, rollup.Span, rollup.Bucket, rollup.Count, rollup.LastKey, EngineRowCodec.WriteTotals(rollup.Totals), rollup.Data);

    private string TenantOf(int series)
    {
        if (_tenants.TryGetValue(series, out var tenant))
        {
            return tenant;
        }

        // Committed by another collector after this store last read its changes, or not committed yet (a cut
        // reading the rollups of a series it is adding): then no row has its id, whatever the tenant.
        using var command = Command(DataSource, "SELECT tenant FROM engine_series WHERE series_id = $1", series);
        if (command.ExecuteScalar() is not string committed)
        {
            return "";
        }

        _tenants[series] = committed;
        return committed;
    }

    private string[] TenantsOf(IReadOnlyList<int> series)
    {
        var tenants = new string[series.Count];
        for (var i = 0; i < tenants.Length; i++)
        {
            tenants[i] = TenantOf(series[i]);
        }

        return tenants;
    }

    private async Task ReadAsync(NpgsqlCommand command, Action<NpgsqlDataReader> row, CancellationToken cancellationToken)
    {
        await using (command)
        {
            // A query can arrive before the engine's first load created its tables (a GET by id that missed the raw store).
            await _storage.InitializeEngineAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    row(reader);
                }
            }
            catch (Exception exception)
            {
                throw _storage.ToUnavailable(exception);
            }
        }
    }

    private static EngineProfileEntry ReadEntry(NpgsqlDataReader reader) =>
        new(ProfileId.FromBytes(reader.GetFieldValue<byte[]>(0)), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), EngineRowCodec.ReadTotals(reader.GetFieldValue<byte[]>(4)));

    /// <summary>Where a change's blocks lie: one object (null: in PostgreSQL) and each block's offset in it.</summary>
    private sealed record BlockPack(string? Key, long[] Offsets)
    {
        public IReadOnlyList<string?> Keys => [Key];
    }

    private static T[] Map<TSource, T>(IReadOnlyList<TSource> items, Func<TSource, T> select)
    {
        var mapped = new T[items.Count];
        for (var i = 0; i < mapped.Length; i++)
        {
            mapped[i] = select(items[i]);
        }

        return mapped;
    }
}
