using Microsoft.Data.Sqlite;

namespace Profefe.Storage.Local;

/// <summary>
/// The database layout, versioned with PRAGMA user_version so later versions can migrate it.
/// Times are DateTime ticks (100 ns, UTC): the full precision of ProfileMeta.CreatedAt, without overflow.
/// </summary>
internal static class LocalSchema
{
    public const int Version = 3;

    // profiles: the meta, small rows so the indexes and the table stay dense; bytes live in profile_data
    //   under the same rowid, so a find never reads a blob.
    // profile_labels: one row per distinct label of a profile, ordered for "this label, this service,
    //   this time range" range scans; further labels are point lookups on the same key.
    // services / label_values: counters kept in the write transaction, so listing needs no scan.
    //   Service rows are never deleted, so the writer can cache their ids.
    internal const string CreateV1 = """
        CREATE TABLE services(
            service_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            profile_count INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE profiles(
            seq INTEGER PRIMARY KEY,
            id BLOB NOT NULL UNIQUE,
            service_id INTEGER NOT NULL,
            type INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            stored_at INTEGER NOT NULL,
            labels BLOB NOT NULL);
        CREATE INDEX profiles_by_service_type_time ON profiles(service_id, type, created_at, id);
        CREATE INDEX profiles_by_service_time ON profiles(service_id, created_at, id);
        CREATE INDEX profiles_by_arrival ON profiles(stored_at);
        CREATE TABLE profile_data(
            seq INTEGER PRIMARY KEY,
            data BLOB NOT NULL);
        CREATE TABLE profile_labels(
            service_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            id BLOB NOT NULL,
            type INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY(service_id, key, value, created_at, id)) WITHOUT ROWID;
        CREATE TABLE label_values(
            service_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            profile_count INTEGER NOT NULL,
            PRIMARY KEY(service_id, key, value)) WITHOUT ROWID;
        PRAGMA user_version = 1;
        """;

    // Version 2 keeps new profiles' bytes in segment files (ProfileSegmentLog): profiles rows point at their
    // record; rows written by version 1 keep segment NULL and their bytes in profile_data.
    // segments: per file, how far the index has taken in its records (recovery indexes the rest) and the
    //   newest stored_at in it (retention deletes a file once everything in it has expired).
    private const string MigrateV1ToV2 = """
        ALTER TABLE profiles ADD COLUMN segment INTEGER;
        ALTER TABLE profiles ADD COLUMN record_offset INTEGER;
        ALTER TABLE profiles ADD COLUMN record_length INTEGER;
        CREATE TABLE segments(
            segment_id INTEGER PRIMARY KEY,
            indexed_end INTEGER NOT NULL,
            last_stored_at INTEGER NOT NULL);
        PRAGMA user_version = 2;
        """;

    // Version 3 adds tenants: a service is one tenant's ("" is the default tenant, whose rows are every row written
    //   before), so the service id every index is keyed by starts with the tenant. Only the small services table is
    //   rebuilt (SQLite cannot change its UNIQUE constraint in place); profiles keep their rows and service ids.
    private const string MigrateV2ToV3 = """
        CREATE TABLE services_v3(
            service_id INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL,
            profile_count INTEGER NOT NULL DEFAULT 0,
            UNIQUE(tenant, name));
        INSERT INTO services_v3(service_id, name, profile_count) SELECT service_id, name, profile_count FROM services;
        DROP TABLE services;
        ALTER TABLE services_v3 RENAME TO services;
        PRAGMA user_version = 3;
        """;

    public static void Apply(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version";
        var version = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version == Version)
        {
            return;
        }

        if (version > Version)
        {
            throw new NotSupportedException($"the database has schema version {version}, newer than this collector's {Version}");
        }

        // Version 0 is a new, empty file; every version's step runs in order, in one transaction.
        if (version == 0)
        {
            command.CommandText = CreateV1;
            command.ExecuteNonQuery();
        }

        if (version < 2)
        {
            command.CommandText = MigrateV1ToV2;
            command.ExecuteNonQuery();
        }

        command.CommandText = MigrateV2ToV3;
        command.ExecuteNonQuery();
        transaction.Commit();
    }
}
