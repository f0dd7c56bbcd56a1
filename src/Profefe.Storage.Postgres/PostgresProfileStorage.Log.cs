using Npgsql;
using Profefe.Core.Engine;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Storage.Postgres.Engine;

namespace Profefe.Storage.Postgres;

// The index as the profile engine's write log. A profile's position is the id of the transaction that stored it
// (profiles.log_xid). Collectors commit out of order, so a position alone may not be passed yet: a transaction
// with a smaller id may still commit rows. A read therefore takes only rows of transactions older than its
// snapshot's xmin (the oldest transaction still running): every such transaction has ended, so no row can ever
// appear at or below a position the cutter has passed. Each read takes whole transactions (a batch of several
// profiles shares one position) so the cursor never stops inside one. A long-running writing transaction anywhere
// on the server holds the log back until it ends; read-only ones do not.
public sealed partial class PostgresProfileStorage : IProfileLog
{
    private volatile bool _engineSchemaReady;

    /// <summary>The pooled connections to this store's schema, for the engine store that shares the database.</summary>
    internal NpgsqlDataSource DataSource => _dataSource;

    public async Task<IReadOnlyList<LoggedProfile>> ReadAfterAsync(long position, int max, CancellationToken cancellationToken)
    {
        await InitializeEngineAsync(cancellationToken).ConfigureAwait(false);
        var positions = new List<long>();
        var keys = new List<ProfileKey>();
        try
        {
            await using var command = Command(_dataSource, """
                WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin),
                upto AS (SELECT max(log_xid) AS xid FROM (SELECT log_xid FROM profiles, horizon WHERE log_xid > $1 AND log_xid < horizon.xmin ORDER BY log_xid LIMIT $2) taken)
                SELECT p.log_xid, p.id, p.tenant FROM profiles p, upto WHERE p.log_xid > $1 AND p.log_xid <= upto.xid ORDER BY p.log_xid, p.id
                """, position, max);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                positions.Add(reader.GetInt64(0));
                keys.Add(new ProfileKey(TenantId.FromKey(reader.GetString(2)), ProfileId.FromBytes(reader.GetFieldValue<byte[]>(1))));
            }
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }

        var byId = new Dictionary<ProfileId, StoredProfile>(keys.Count);
        foreach (var tenant in keys.Select(static k => k.Tenant).Distinct())
        {
            var ids = keys.Where(k => k.Tenant == tenant).Select(static k => k.Id).ToList();
            await foreach (var stored in ListProfilesAsync(tenant, ids, cancellationToken).ConfigureAwait(false))
            {
                byId[stored.Meta.ProfileId] = stored;
            }
        }

        // A row retention deleted between the two reads is gone for the engine too.
        var logged = new List<LoggedProfile>(keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            if (byId.TryGetValue(keys[i].Id, out var stored))
            {
                logged.Add(new LoggedProfile(positions[i], stored));
            }
        }

        if (positions.Count > 0 && (logged.Count == 0 || logged[^1].Position != positions[^1]))
        {
            // Keep the cursor moving past rows that vanished.
            logged.Add(new LoggedProfile(positions[^1], new StoredProfile(new ProfileMeta(keys[^1].Id, ProfileType.Unknown, "", [], DateTime.UnixEpoch), ReadOnlyMemory<byte>.Empty)));
        }

        return logged;
    }

    public async Task<IReadOnlyList<ProfileMeta>> ListAfterAsync(long position, TenantId tenant, string service, int max, CancellationToken cancellationToken)
    {
        await InitializeEngineAsync(cancellationToken).ConfigureAwait(false);
        var metas = new List<ProfileMeta>();
        try
        {
            // Every row after a cursor, uncommitted transactions aside (they have not acknowledged anything yet).
            await using var command = Command(_dataSource, """
                SELECT id, type, created_at, label_keys, label_values FROM profiles
                WHERE log_xid > $1 AND tenant = $2 AND service = $3 ORDER BY log_xid, id LIMIT $4
                """, position, tenant.Key, service, max);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                metas.Add(new ProfileMeta(
                    ProfileId.FromBytes(reader.GetFieldValue<byte[]>(0)),
                    (ProfileType)reader.GetInt16(1),
                    service,
                    JoinLabels(reader.GetFieldValue<string[]>(3), reader.GetFieldValue<string[]>(4)),
                    FromTicks(reader.GetInt64(2)),
                    tenant));
            }
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }

        return metas;
    }

    public Task<long> HeadAsync(CancellationToken cancellationToken) =>
        ScalarAsync(Command(_dataSource, "SELECT coalesce(max(log_xid), 0) FROM profiles"), cancellationToken);

    // Positions are transaction ids, one per batch of profiles, so the backlog is counted in rows.
    public Task<long> CountAfterAsync(long position, long limit, CancellationToken cancellationToken) =>
        ScalarAsync(Command(_dataSource, "SELECT count(*) FROM (SELECT 1 FROM profiles WHERE log_xid > $1 LIMIT $2) taken", position, limit), cancellationToken);

    private async Task<long> ScalarAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var disposing = command.ConfigureAwait(false);
        await InitializeEngineAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
    }

    /// <summary>Creates the index's schema and the engine's tables and log column now instead of on first use.</summary>
    internal async Task InitializeEngineAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (_engineSchemaReady)
        {
            return;
        }

        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await PostgresEngineSchema.ApplyAsync(connection, cancellationToken).ConfigureAwait(false);
            _engineSchemaReady = true;
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
    }

    /// <summary>A failure of PostgreSQL as the 503 it means (logged once), for the engine store sharing the database.</summary>
    internal StorageUnavailableException ToUnavailable(Exception exception) => Unavailable(exception);
}
