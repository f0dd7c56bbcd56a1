using Npgsql;

namespace Profefe.Storage.Postgres.Engine;

/// <summary>
/// The profile engine's tables beside the index (in the same schema), and the write-log column it cuts from.
/// Created idempotently apart from <see cref="PostgresSchema"/>'s versions: only collectors running the engine
/// need them, and none of them changes a table the index uses beyond one added column.
/// </summary>
/// <remarks>
/// Every table is keyed by tenant first. Times are DateTime ticks, as in the index.
/// engine_state: the cursor into the write log. engine_lease: who may change the engine's data, with a token
/// that grows at every change of holder (the fence every changing transaction checks).
/// engine_series / engine_symbols: the catalog; symbol deltas apply in seq order, which is commit order because
/// only the lease holder inserts them, one transaction at a time.
/// engine_blocks: one row per block, its bytes in object storage (size bytes at object_offset in the pack object_key,
/// which holds every block of the cut or compaction that wrote it) or here (data). Rows from before packs have
/// offset 0 in an object of their own.
/// symbols_upto (blocks, rollups): the newest symbol seq when the row was written; a reader whose catalog has
/// less loads the rest before using the row.
/// profiles.log_xid: the transaction that stored each profile (the write log's position). Rows stored before the
/// column existed get 1 (a constant default rewrites no table); every later insert gets its transaction's id.
/// </remarks>
internal static class PostgresEngineSchema
{
    // Arbitrary, fixed: "profeng" in ASCII. Serializes concurrent creation across collectors.
    private const long CreationLock = 0x70726f66656e67;

    private const string Create = """
        CREATE TABLE IF NOT EXISTS engine_state(key text PRIMARY KEY, value bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS engine_lease(name text PRIMARY KEY, holder text NOT NULL, token bigint NOT NULL, expires_at timestamptz NOT NULL);
        CREATE TABLE IF NOT EXISTS engine_series(
            tenant text NOT NULL, series_id integer NOT NULL, service text NOT NULL, type smallint NOT NULL, labels bytea NOT NULL,
            PRIMARY KEY(tenant, series_id));
        CREATE UNIQUE INDEX IF NOT EXISTS engine_series_by_id ON engine_series(series_id);
        CREATE TABLE IF NOT EXISTS engine_symbols(
            tenant text NOT NULL, service text NOT NULL, seq bigint GENERATED ALWAYS AS IDENTITY, delta bytea NOT NULL,
            PRIMARY KEY(tenant, service, seq));
        CREATE UNIQUE INDEX IF NOT EXISTS engine_symbols_by_seq ON engine_symbols(seq);
        CREATE TABLE IF NOT EXISTS engine_blocks(
            tenant text NOT NULL, series_id integer NOT NULL, bucket bigint NOT NULL, block_id bigint GENERATED ALWAYS AS IDENTITY,
            count integer NOT NULL, min_time bigint NOT NULL, max_time bigint NOT NULL, size bigint NOT NULL, object_key text, data bytea, symbols_upto bigint NOT NULL,
            PRIMARY KEY(tenant, series_id, bucket, block_id));
        CREATE UNIQUE INDEX IF NOT EXISTS engine_blocks_by_id ON engine_blocks(block_id);
        ALTER TABLE engine_blocks ADD COLUMN IF NOT EXISTS object_offset bigint NOT NULL DEFAULT 0;
        DROP INDEX IF EXISTS engine_blocks_by_object;
        CREATE INDEX IF NOT EXISTS engine_blocks_by_pack ON engine_blocks(object_key);
        ALTER TABLE engine_blocks ALTER COLUMN data SET STORAGE EXTERNAL;
        CREATE TABLE IF NOT EXISTS engine_rollups(
            tenant text NOT NULL, series_id integer NOT NULL, span bigint NOT NULL, bucket bigint NOT NULL,
            count integer NOT NULL, last_key bigint NOT NULL, totals bytea NOT NULL, data bytea NOT NULL, symbols_upto bigint NOT NULL,
            PRIMARY KEY(tenant, series_id, span, bucket));
        CREATE TABLE IF NOT EXISTS engine_entries(
            tenant text NOT NULL, series_id integer NOT NULL, created_at bigint NOT NULL, id bytea NOT NULL,
            stored_at bigint NOT NULL, totals bytea NOT NULL,
            PRIMARY KEY(tenant, series_id, created_at, id));
        CREATE UNIQUE INDEX IF NOT EXISTS engine_entries_by_id ON engine_entries(id);
        CREATE INDEX IF NOT EXISTS engine_entries_by_arrival ON engine_entries(stored_at);
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'profiles' AND column_name = 'log_xid') THEN
                ALTER TABLE profiles ADD COLUMN log_xid bigint NOT NULL DEFAULT 1;
                ALTER TABLE profiles ALTER COLUMN log_xid SET DEFAULT pg_current_xact_id()::text::bigint;
            END IF;
        END $$;
        CREATE INDEX IF NOT EXISTS profiles_by_log_xid ON profiles(log_xid);
        """;

    /// <summary>Creates what is missing; the index's own schema must be in place.</summary>
    public static async Task ApplyAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({CreationLock})", connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var command = new NpgsqlCommand(Create, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
