using Npgsql;

namespace Profefe.Storage.Postgres;

/// <summary>
/// The tables, versioned in profefe_schema so later collectors can migrate them. Every collector sharing the
/// database runs this at start-up; an advisory lock lets exactly one of them create or migrate.
/// Times are DateTime ticks (100 ns, UTC) in bigint: the full precision of ProfileMeta.CreatedAt.
/// </summary>
internal static class PostgresSchema
{
    public const int Version = 2;

    // Arbitrary, fixed: "profefe" in ASCII. Serializes concurrent migrations across collectors.
    private const long MigrationLock = 0x70726f66656665;

    // profiles: the meta only, narrow rows for dense indexes; labels kept in their original order and
    //   multiplicity as two parallel arrays. stored_at is the arrival time (ProfileMeta.StoredAt), which retention goes by.
    // profile_data: the bytes when PostgreSQL holds them too (EXTERNAL: pprof is already gzip, compressing it
    //   again only costs CPU). Without a row here the bytes live in object storage.
    // profile_labels: one row per distinct label of a profile, ordered for "this label of this service in this
    //   time range" range scans; further labels are point lookups on the same key.
    // services / label_values: counters kept in the write transaction, so listing needs no scan of profiles.
    private const string CreateV1 = """
        CREATE TABLE profiles(
            id bytea PRIMARY KEY,
            service text NOT NULL,
            type smallint NOT NULL,
            created_at bigint NOT NULL,
            stored_at bigint NOT NULL,
            label_keys text[] NOT NULL,
            label_values text[] NOT NULL,
            data_size bigint NOT NULL);
        CREATE INDEX profiles_by_service_type_time ON profiles(service, type, created_at, id);
        CREATE INDEX profiles_by_service_time ON profiles(service, created_at, id);
        CREATE INDEX profiles_by_stored_at ON profiles(stored_at);
        CREATE TABLE profile_data(
            id bytea PRIMARY KEY REFERENCES profiles(id) ON DELETE CASCADE,
            data bytea NOT NULL);
        ALTER TABLE profile_data ALTER COLUMN data SET STORAGE EXTERNAL;
        CREATE TABLE profile_labels(
            service text NOT NULL,
            key text NOT NULL,
            value text NOT NULL,
            created_at bigint NOT NULL,
            id bytea NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
            type smallint NOT NULL,
            PRIMARY KEY(service, key, value, created_at, id));
        CREATE INDEX profile_labels_by_id ON profile_labels(id);
        CREATE TABLE services(
            name text PRIMARY KEY,
            profile_count bigint NOT NULL);
        CREATE TABLE label_values(
            service text NOT NULL,
            key text NOT NULL,
            value text NOT NULL,
            profile_count bigint NOT NULL,
            PRIMARY KEY(service, key, value));
        """;

    // Version 2 adds tenants: a tenant column first in every key and index ('' is the default tenant, whose rows
    //   are every row written before). ADD COLUMN with a constant default rewrites no table; the keys and indexes
    //   are rebuilt. Profile ids stay the profiles' primary key: they are unique across tenants.
    private const string MigrateV1ToV2 = """
        ALTER TABLE profiles ADD COLUMN tenant text NOT NULL DEFAULT '';
        DROP INDEX profiles_by_service_type_time;
        DROP INDEX profiles_by_service_time;
        CREATE INDEX profiles_by_tenant_service_type_time ON profiles(tenant, service, type, created_at, id);
        CREATE INDEX profiles_by_tenant_service_time ON profiles(tenant, service, created_at, id);
        ALTER TABLE profile_labels ADD COLUMN tenant text NOT NULL DEFAULT '';
        ALTER TABLE profile_labels DROP CONSTRAINT profile_labels_pkey, ADD PRIMARY KEY(tenant, service, key, value, created_at, id);
        ALTER TABLE services ADD COLUMN tenant text NOT NULL DEFAULT '';
        ALTER TABLE services DROP CONSTRAINT services_pkey, ADD PRIMARY KEY(tenant, name);
        ALTER TABLE label_values ADD COLUMN tenant text NOT NULL DEFAULT '';
        ALTER TABLE label_values DROP CONSTRAINT label_values_pkey, ADD PRIMARY KEY(tenant, service, key, value);
        """;

    // Segments (batched ingest on object storage): a profile's bytes at segment_offset in object segment_id, its
    //   length data_size; segments lists every object whose index rows were committed, so an object missing
    //   here is an orphan. Separate idempotent statements applied at every start, beside the numbered versions:
    //   rows without segment_id (one object per profile, or bytes in profile_data) read as before.
    private static readonly string[] Segments =
    [
        "ALTER TABLE profiles ADD COLUMN IF NOT EXISTS segment_id bytea",
        "ALTER TABLE profiles ADD COLUMN IF NOT EXISTS segment_offset bigint",
        "CREATE INDEX IF NOT EXISTS profiles_by_segment ON profiles(segment_id) WHERE segment_id IS NOT NULL",
        "CREATE TABLE IF NOT EXISTS segments(id bytea PRIMARY KEY, tenant text NOT NULL, created_at bigint NOT NULL, size bigint NOT NULL, profile_count integer NOT NULL)",
        "CREATE INDEX IF NOT EXISTS segments_by_created_at ON segments(created_at)",
    ];

    private static readonly System.Buffers.SearchValues<char> IdentifierChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

    public static bool IsValidSchemaName(string name) =>
        name.Length is > 0 and < 64
        && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.AsSpan().IndexOfAnyExcept(IdentifierChars) < 0;

    /// <summary>Creates or migrates the schema; returns the version found before (0 when new).</summary>
    public static async Task<int> ApplyAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"""
            CREATE SCHEMA IF NOT EXISTS "{schema}";
            SET LOCAL search_path TO "{schema}";
            CREATE TABLE IF NOT EXISTS profefe_schema(version integer NOT NULL);
            """, cancellationToken).ConfigureAwait(false);

        await using var select = new NpgsqlCommand("SELECT max(version) FROM profefe_schema", connection, transaction);
        var found = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int version ? version : 0;
        if (found > Version)
        {
            throw new NotSupportedException($"the PostgreSQL schema \"{schema}\" has version {found}, newer than this collector's {Version}");
        }

        if (found < 1)
        {
            // Version 0 is an empty schema: there is nothing to migrate from yet.
            await ExecuteAsync(connection, transaction, CreateV1 + "\nINSERT INTO profefe_schema(version) VALUES (1);", cancellationToken).ConfigureAwait(false);
        }

        if (found < 2)
        {
            await ExecuteAsync(connection, transaction, MigrateV1ToV2 + "\nINSERT INTO profefe_schema(version) VALUES (2);", cancellationToken).ConfigureAwait(false);
        }

        foreach (var statement in Segments)
        {
            await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return found;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
