using Microsoft.Data.Sqlite;
using Profefe.Core.Engine;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Profiles;

namespace Profefe.Storage.Local.Engine;

/// <summary>
/// The profile engine's data in the data directory: a second SQLite database (engine.db, WAL, synced on every
/// commit) holding series, symbol deltas, blocks, rollups and per-profile entries. It is apart from the index
/// so that cutting blocks never holds the ingest writer's lock.
/// </summary>
public sealed class LocalEngineStore : IProfileEngineStore, IDisposable
{
    public const string DatabaseFileName = "engine.db";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS series(series_id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, service TEXT NOT NULL, type INTEGER NOT NULL, labels BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS symbols(seq INTEGER PRIMARY KEY, tenant TEXT NOT NULL, service TEXT NOT NULL, delta BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS blocks(block_id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL, min_time INTEGER NOT NULL, max_time INTEGER NOT NULL, data BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS blocks_by_bucket ON blocks(series_id, bucket);
        CREATE TABLE IF NOT EXISTS rollups(rollup_id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, span INTEGER NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL, last_key INTEGER NOT NULL, totals BLOB NOT NULL, data BLOB NOT NULL);
        CREATE UNIQUE INDEX IF NOT EXISTS rollups_by_bucket ON rollups(series_id, span, bucket);
        CREATE TABLE IF NOT EXISTS entries(id BLOB NOT NULL PRIMARY KEY, series_id INTEGER NOT NULL, created_at INTEGER NOT NULL, stored_at INTEGER NOT NULL, totals BLOB NOT NULL) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS entries_by_time ON entries(series_id, created_at);
        CREATE INDEX IF NOT EXISTS entries_by_arrival ON entries(stored_at);
        """;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly Lock _writeLock = new();

    public LocalEngineStore(string dataDirectory)
    {
        Path = System.IO.Path.Combine(dataDirectory, DatabaseFileName);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
        Execute(_writer, Schema);
    }

    public string Path { get; }

    public Task<EngineSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        var cursor = 0L;
        using (var command = Command(connection, "SELECT value FROM state WHERE key = 'cursor'"))
        {
            cursor = command.ExecuteScalar() is long value ? value : 0;
        }

        var series = new List<EngineSeries>();
        using (var command = Command(connection, "SELECT series_id, tenant, service, type, labels FROM series ORDER BY series_id"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                series.Add(new EngineSeries(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), (ProfileType)reader.GetInt32(3), EngineRowCodec.ReadLabels((byte[])reader.GetValue(4))));
            }
        }

        var deltas = new List<(string, string, byte[])>();
        using (var command = Command(connection, "SELECT tenant, service, delta FROM symbols ORDER BY seq"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                deltas.Add((reader.GetString(0), reader.GetString(1), ProfileBlockCodec.Decompress((byte[])reader.GetValue(2))));
            }
        }

        return Task.FromResult(new EngineSnapshot(cursor, series, deltas));
    }

    public Task CommitAsync(EngineCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        lock (_writeLock)
        {
            using var transaction = _writer.BeginTransaction();
            foreach (var series in commit.NewSeries)
            {
                using var command = Command(_writer, "INSERT INTO series(series_id, tenant, service, type, labels) VALUES ($id, $tenant, $service, $type, $labels)", transaction);
                command.Parameters.AddWithValue("$id", series.Id);
                command.Parameters.AddWithValue("$tenant", series.Tenant);
                command.Parameters.AddWithValue("$service", series.Service);
                command.Parameters.AddWithValue("$type", (int)series.Type);
                command.Parameters.AddWithValue("$labels", EngineRowCodec.WriteLabels(series.Labels));
                command.ExecuteNonQuery();
            }

            foreach (var (tenant, service, delta) in commit.SymbolDeltas)
            {
                using var command = Command(_writer, "INSERT INTO symbols(tenant, service, delta) VALUES ($tenant, $service, $delta)", transaction);
                command.Parameters.AddWithValue("$tenant", tenant);
                command.Parameters.AddWithValue("$service", service);
                command.Parameters.AddWithValue("$delta", delta);
                command.ExecuteNonQuery();
            }

            foreach (var block in commit.Blocks)
            {
                InsertBlock(block, transaction);
            }

            foreach (var rollup in commit.Rollups)
            {
                InsertRollup(rollup, transaction);
            }

            using (var command = Command(_writer, "INSERT OR REPLACE INTO entries(id, series_id, created_at, stored_at, totals) VALUES ($id, $series, $created, $stored, $totals)", transaction))
            {
                var id = command.Parameters.Add("$id", SqliteType.Blob);
                var series = command.Parameters.Add("$series", SqliteType.Integer);
                var created = command.Parameters.Add("$created", SqliteType.Integer);
                var stored = command.Parameters.Add("$stored", SqliteType.Integer);
                var totals = command.Parameters.Add("$totals", SqliteType.Blob);
                foreach (var entry in commit.Profiles)
                {
                    id.Value = entry.Id.ToBytes();
                    series.Value = entry.Series;
                    created.Value = entry.CreatedAt;
                    stored.Value = entry.StoredAt;
                    totals.Value = EngineRowCodec.WriteTotals(entry.Totals);
                    command.ExecuteNonQuery();
                }
            }

            using (var command = Command(_writer, "INSERT INTO state(key, value) VALUES ('cursor', $cursor) ON CONFLICT(key) DO UPDATE SET value = excluded.value", transaction))
            {
                command.Parameters.AddWithValue("$cursor", commit.Cursor);
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<StoredRollup>> ReadRollupsAsync(IReadOnlyList<int> series, long span, long fromBucket, long toBucket, bool withData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        using var connection = OpenReader();
        using var command = Command(connection, $"""
            SELECT series_id, bucket, count, last_key, totals, {(withData ? "data" : "x''")} FROM rollups
            WHERE series_id IN ({string.Join(',', series)}) AND span = $span AND bucket BETWEEN $from AND $to ORDER BY bucket, series_id
            """);
        command.Parameters.AddWithValue("$span", span);
        command.Parameters.AddWithValue("$from", fromBucket);
        command.Parameters.AddWithValue("$to", toBucket);
        var rollups = new List<StoredRollup>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rollups.Add(new StoredRollup(reader.GetInt32(0), span, reader.GetInt64(1), reader.GetInt32(2), EngineRowCodec.ReadTotals((byte[])reader.GetValue(4)), reader.GetInt64(3), (byte[])reader.GetValue(5)));
        }

        return Task.FromResult<IReadOnlyList<StoredRollup>>(rollups);
    }

    public Task<IReadOnlyList<StoredBlock>> ReadBlocksAsync(int series, long bucket, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        return Task.FromResult<IReadOnlyList<StoredBlock>>(ReadBlocks(connection, series, bucket, null));
    }

    public Task<IReadOnlyList<StoredBlock>> ReadBlocksAsync(IReadOnlyList<int> series, long bucket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        var blocks = new List<StoredBlock>();
        using var connection = OpenReader();
        foreach (var id in series)
        {
            blocks.AddRange(ReadBlocks(connection, id, bucket, null));
        }

        return Task.FromResult<IReadOnlyList<StoredBlock>>(blocks);
    }

    public Task<IReadOnlyList<EngineProfileEntry>> FindProfilesAsync(IReadOnlyList<int> series, long from, long to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        using var connection = OpenReader();
        using var command = Command(connection, $"""
            SELECT id, series_id, created_at, stored_at, totals FROM entries
            WHERE series_id IN ({string.Join(',', series)}) AND created_at BETWEEN $from AND $to ORDER BY created_at, id
            """);
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        var entries = new List<EngineProfileEntry>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            entries.Add(ReadEntry(reader));
        }

        return Task.FromResult<IReadOnlyList<EngineProfileEntry>>(entries);
    }

    public Task<IReadOnlyList<EngineProfileEntry>> FindProfilesInWindowsAsync(IReadOnlyList<int> series, IReadOnlyList<long> starts, long width, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(starts);
        var entries = new List<EngineProfileEntry>();
        if (starts.Count == 0 || series.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<EngineProfileEntry>>(entries);
        }

        // The windows drive the join (SQLite keeps a CROSS JOIN's order): one range seek of entries_by_time per
        // window and series, all in one statement. Starts and series ids are numbers, written in as the IN list is.
        var windows = new System.Text.StringBuilder();
        for (var i = 0; i < starts.Count; i++)
        {
            windows.Append(i == 0 ? "(" : ",(").Append(starts[i].ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(')');
        }

        using var connection = OpenReader();
        using var command = Command(connection, $"""
            WITH windows(start) AS (VALUES {windows})
            SELECT e.id, e.series_id, e.created_at, e.stored_at, e.totals FROM windows w CROSS JOIN entries e
            WHERE e.series_id IN ({string.Join(',', series)}) AND e.created_at BETWEEN w.start AND w.start + $width - 1 ORDER BY e.created_at, e.id
            """);
        command.Parameters.AddWithValue("$width", width);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            entries.Add(ReadEntry(reader));
        }

        return Task.FromResult<IReadOnlyList<EngineProfileEntry>>(entries);
    }

    public Task<EngineProfileEntry?> GetProfileAsync(ProfileId id, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        using var command = Command(connection, "SELECT id, series_id, created_at, stored_at, totals FROM entries WHERE id = $id");
        command.Parameters.AddWithValue("$id", id.ToBytes());
        using var reader = command.ExecuteReader();
        return Task.FromResult(reader.Read() ? ReadEntry(reader) : null);
    }

    public Task<IReadOnlyList<(int Series, long Bucket)>> ListFragmentedBucketsAsync(int max, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        using var command = Command(connection, "SELECT series_id, bucket FROM blocks GROUP BY series_id, bucket HAVING count(*) > 1 LIMIT $max");
        command.Parameters.AddWithValue("$max", max);
        var buckets = new List<(int, long)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            buckets.Add((reader.GetInt32(0), reader.GetInt64(1)));
        }

        return Task.FromResult<IReadOnlyList<(int, long)>>(buckets);
    }

    public Task ReplaceBlocksAsync(IReadOnlyList<BlockReplacement> replacements, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        lock (_writeLock)
        {
            using var transaction = _writer.BeginTransaction();
            foreach (var replacement in replacements)
            {
                using (var command = Command(_writer, $"DELETE FROM blocks WHERE block_id IN ({string.Join(',', replacement.BlockIds)})", transaction))
                {
                    if (command.ExecuteNonQuery() != replacement.BlockIds.Count)
                    {
                        // Another compaction got there first; leave its result alone.
                        transaction.Rollback();
                        return Task.CompletedTask;
                    }
                }

                InsertBlock(replacement.Block, transaction);
            }

            transaction.Commit();
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ExpiredBucket>> ListExpiredBucketsAsync(long storedBefore, int max, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        using var command = Command(connection, """
            WITH expired AS (
                SELECT series_id, created_at - (created_at % $hour) AS bucket, count(*) AS n FROM entries
                WHERE stored_at < $before GROUP BY series_id, bucket LIMIT $max)
            SELECT e.series_id, e.bucket, e.n,
                (SELECT count(*) FROM entries a WHERE a.series_id = e.series_id AND a.created_at BETWEEN e.bucket AND e.bucket + $hour - 1)
            FROM expired e
            """);
        command.Parameters.AddWithValue("$hour", EngineCatalog.BucketTicks);
        command.Parameters.AddWithValue("$before", storedBefore);
        command.Parameters.AddWithValue("$max", max);
        var buckets = new List<ExpiredBucket>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            buckets.Add(new ExpiredBucket(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3)));
        }

        return Task.FromResult<IReadOnlyList<ExpiredBucket>>(buckets);
    }

    public Task ReplaceBucketAsync(int series, long bucket, long storedBefore, NewBlock? block, StoredRollup? rollup, CancellationToken cancellationToken)
    {
        lock (_writeLock)
        {
            using var transaction = _writer.BeginTransaction();
            foreach (var sql in (string[])[
                "DELETE FROM blocks WHERE series_id = $series AND bucket = $bucket",
                "DELETE FROM rollups WHERE series_id = $series AND span = $hour AND bucket = $bucket",
                "DELETE FROM entries WHERE series_id = $series AND created_at BETWEEN $bucket AND $bucket + $hour - 1 AND stored_at < $before"])
            {
                using var command = Command(_writer, sql, transaction);
                command.Parameters.AddWithValue("$series", series);
                command.Parameters.AddWithValue("$bucket", bucket);
                command.Parameters.AddWithValue("$hour", EngineCatalog.BucketTicks);
                command.Parameters.AddWithValue("$before", storedBefore);
                command.ExecuteNonQuery();
            }

            if (block is not null)
            {
                InsertBlock(block, transaction);
            }

            if (rollup is not null)
            {
                InsertRollup(rollup, transaction);
            }

            transaction.Commit();
        }

        return Task.CompletedTask;
    }

    public Task PutRollupsAsync(IReadOnlyList<StoredRollup> put, IReadOnlyList<(int Series, long Span, long Bucket)> delete, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(put);
        ArgumentNullException.ThrowIfNull(delete);
        lock (_writeLock)
        {
            using var transaction = _writer.BeginTransaction();
            foreach (var (series, span, bucket) in delete)
            {
                using var command = Command(_writer, "DELETE FROM rollups WHERE series_id = $series AND span = $span AND bucket = $bucket", transaction);
                command.Parameters.AddWithValue("$series", series);
                command.Parameters.AddWithValue("$span", span);
                command.Parameters.AddWithValue("$bucket", bucket);
                command.ExecuteNonQuery();
            }

            foreach (var rollup in put)
            {
                InsertRollup(rollup, transaction);
            }

            transaction.Commit();
        }

        return Task.CompletedTask;
    }

    public Task<long> GetBytesAsync(CancellationToken cancellationToken)
    {
        var bytes = 0L;
        foreach (var suffix in (string[])["", "-wal"])
        {
            var file = new FileInfo(Path + suffix);
            bytes += file.Exists ? file.Length : 0;
        }

        return Task.FromResult(bytes);
    }

    public void Dispose() => _writer.Dispose();

    private void InsertBlock(NewBlock block, SqliteTransaction transaction)
    {
        using var command = Command(_writer, "INSERT INTO blocks(series_id, bucket, count, min_time, max_time, data) VALUES ($series, $bucket, $count, $min, $max, $data)", transaction);
        command.Parameters.AddWithValue("$series", block.Series);
        command.Parameters.AddWithValue("$bucket", block.Bucket);
        command.Parameters.AddWithValue("$count", block.Count);
        command.Parameters.AddWithValue("$min", block.MinTime);
        command.Parameters.AddWithValue("$max", block.MaxTime);
        command.Parameters.AddWithValue("$data", block.Data);
        command.ExecuteNonQuery();
    }

    private void InsertRollup(StoredRollup rollup, SqliteTransaction transaction)
    {
        using var command = Command(_writer, """
            INSERT INTO rollups(series_id, span, bucket, count, last_key, totals, data) VALUES ($series, $span, $bucket, $count, $last, $totals, $data)
            ON CONFLICT(series_id, span, bucket) DO UPDATE SET count = excluded.count, last_key = excluded.last_key, totals = excluded.totals, data = excluded.data
            """, transaction);
        command.Parameters.AddWithValue("$series", rollup.Series);
        command.Parameters.AddWithValue("$span", rollup.Span);
        command.Parameters.AddWithValue("$bucket", rollup.Bucket);
        command.Parameters.AddWithValue("$count", rollup.Count);
        command.Parameters.AddWithValue("$last", rollup.LastKey);
        command.Parameters.AddWithValue("$totals", EngineRowCodec.WriteTotals(rollup.Totals));
        command.Parameters.AddWithValue("$data", rollup.Data);
        command.ExecuteNonQuery();
    }

    private static List<StoredBlock> ReadBlocks(SqliteConnection connection, int series, long bucket, SqliteTransaction? transaction)
    {
        using var command = Command(connection, "SELECT block_id, count, data FROM blocks WHERE series_id = $series AND bucket = $bucket ORDER BY block_id", transaction);
        command.Parameters.AddWithValue("$series", series);
        command.Parameters.AddWithValue("$bucket", bucket);
        var blocks = new List<StoredBlock>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            blocks.Add(new StoredBlock(reader.GetInt64(0), series, bucket, reader.GetInt32(1), (byte[])reader.GetValue(2)));
        }

        return blocks;
    }

    private static EngineProfileEntry ReadEntry(SqliteDataReader reader) =>
        new(ProfileId.FromBytes((byte[])reader.GetValue(0)), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), EngineRowCodec.ReadTotals((byte[])reader.GetValue(4)));

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = Command(connection, sql);
        command.ExecuteNonQuery();
    }
}
