using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Segments;
using Profefe.Core.Tenancy;

namespace Profefe.Storage.Postgres;

/// <summary>
/// The PostgreSQL store: the index every collector sharing the database reads and writes, and the profile bytes
/// too ("PostgreSQL alone"), or only the index with the bytes in an <see cref="IProfileBlobStore"/> ("S3 +
/// PostgreSQL"). Stateless apart from the connection pool, so any number of collectors can use one database.
/// The schema is created or migrated on first use, which also lets a collector start while the database is
/// still down: requests answer 503 until it is back.
/// </summary>
/// <remarks>
/// With a blob store, a write puts the bytes first and adds the index row only once they are durable, so a crash
/// in between leaves an object nothing points at, never an index row pointing at nothing; retention deletes such
/// orphans. Rows that do have bytes in profile_data (written before the blob store was configured) still read.
/// </remarks>
public sealed partial class PostgresProfileStorage
    : IProfileWriter, IProfileReader, IProfileRetention, IProfileStorageStatistics, IProfileStorageReadiness, IAsyncDisposable, IDisposable
{
    private const int MaxAttempts = 3;

    private static readonly ProfileFindSql FindSql = new("@", ["tenant", "service"], ["id", "type", "created_at", "label_keys", "label_values"], "id");

    private readonly PostgresStorageOptions _options;
    private readonly ILogger _logger;
    private readonly NpgsqlDataSource _dataSource;
    private readonly IProfileBlobStore? _blobStore;
    private readonly ISegmentObjectStore? _segments;
    private readonly GroupCommitOptions? _groupCommitOptions;
    private readonly GroupCommit<SegmentShard, PendingWrite>? _groupCommit;
    // The segments this collector wrote most recently, keyed by id and size (a read uses one only when the index
    // recorded that size). Right after a burst the engine has not cut the new profiles yet, so merges read them raw:
    // without it each such read is a ranged GET of bytes held in memory moments before, where the embedded store
    // reads its fresh segment files from the page cache.
    private readonly ImmutableBytesCache<(SegmentId Id, long Size)>? _segmentCache;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private volatile bool _schemaReady;

    /// <param name="blobStore">Where the profile bytes go; null keeps them in PostgreSQL. Not disposed with the store.</param>
    /// <param name="segments">
    /// With <paramref name="groupCommit"/>: writes are batched into segment objects there instead (rows written one
    /// object per profile still read from <paramref name="blobStore"/>). Not disposed with the store.
    /// </param>
    public PostgresProfileStorage(
        PostgresStorageOptions options,
        ILogger<PostgresProfileStorage>? logger = null,
        IProfileBlobStore? blobStore = null,
        ISegmentObjectStore? segments = null,
        GroupCommitOptions? groupCommit = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (new PostgresStorageOptionsValidator().Validate(null, options) is { Failed: true } invalid)
        {
            throw new ArgumentException(invalid.FailureMessage, nameof(options));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            SearchPath = options.Schema,
            CommandTimeout = (int)Math.Ceiling(options.CommandTimeout.TotalSeconds),
            Timeout = (int)Math.Ceiling(options.ConnectTimeout.TotalSeconds),
        };
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "profefe";
        }

        _dataSource = NpgsqlDataSource.Create(builder);
        _blobStore = blobStore;
        _timeProvider = timeProvider ?? TimeProvider.System;
        if (segments is not null)
        {
            _segments = segments;
            _groupCommitOptions = groupCommit ?? new GroupCommitOptions();
            _groupCommit = new GroupCommit<SegmentShard, PendingWrite>(_groupCommitOptions, FlushSegmentAsync, static w => w.Data.Length, _timeProvider);
            _segmentCache = _groupCommitOptions.CacheBytes > 0 ? new ImmutableBytesCache<(SegmentId Id, long Size)>(_groupCommitOptions.CacheBytes) : null;
        }
    }

    public string Schema => _options.Schema;

    /// <summary>Where the profile bytes are, when not in PostgreSQL.</summary>
    public IProfileBlobStore? BlobStore => _blobStore;

    /// <summary>PostgreSQL answers (and the schema is in place), and so does the blob store when it can tell.</summary>
    public async Task CheckReadyAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }

        if (_blobStore is IProfileStorageReadiness blobStore)
        {
            await blobStore.CheckReadyAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Creates or migrates the schema now instead of on the first request.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_schemaReady)
        {
            return;
        }

        await _schemaLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_schemaReady)
            {
                return;
            }

            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var from = await PostgresSchema.ApplyAsync(connection, _options.Schema, cancellationToken).ConfigureAwait(false);
            if (from != PostgresSchema.Version)
            {
                Log.SchemaMigrated(_logger, _options.Schema, from, PostgresSchema.Version);
            }

            Log.SchemaReady(_logger, _options.Schema, PostgresSchema.Version);
            _schemaReady = true;
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
        finally
        {
            _schemaLock.Release();
        }
    }

    public async Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meta);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (_groupCommit is not null)
        {
            await WriteToSegmentAsync(meta, data, cancellationToken).ConfigureAwait(false);
            return;
        }

        var id = meta.ProfileId.ToBytes();
        var (keys, values) = SplitLabels(meta.Labels);
        var (distinctKeys, distinctValues) = DistinctLabels(meta.Labels);

        if (_blobStore is not null)
        {
            // Bytes first: the index row below may only ever point at durable bytes.
            await _blobStore.PutAsync(new ProfileKey(meta.Tenant, meta.ProfileId), data, cancellationToken).ConfigureAwait(false);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using var batch = new NpgsqlBatch(connection, transaction);
                batch.BatchCommands.Add(Command(
                    "INSERT INTO profiles(id, service, type, created_at, stored_at, label_keys, label_values, data_size, tenant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    id, meta.Service, (short)meta.Type, ToTicks(meta.CreatedAt), ToTicks(meta.StoredAt), keys, values, (long)data.Length, meta.Tenant.Key));
                if (_blobStore is null)
                {
                    batch.BatchCommands.Add(Command("INSERT INTO profile_data(id, data) VALUES ($1, $2)", id, data));
                }
                if (distinctKeys.Length > 0)
                {
                    batch.BatchCommands.Add(Command(
                        "INSERT INTO profile_labels(tenant, service, key, value, created_at, id, type) SELECT $7, $1, k, v, $4, $5, $6 FROM unnest($2::text[], $3::text[]) AS t(k, v)",
                        meta.Service, distinctKeys, distinctValues, ToTicks(meta.CreatedAt), id, (short)meta.Type, meta.Tenant.Key));
                }

                // The counters go last so their row locks (shared by every writer of the service) are held for the
                // shortest time; labels come sorted so concurrent writers lock them in the same order.
                batch.BatchCommands.Add(Command(
                    "INSERT INTO services(tenant, name, profile_count) VALUES ($2, $1, 1) ON CONFLICT (tenant, name) DO UPDATE SET profile_count = services.profile_count + 1",
                    meta.Service, meta.Tenant.Key));
                if (distinctKeys.Length > 0)
                {
                    batch.BatchCommands.Add(Command(
                        "INSERT INTO label_values(tenant, service, key, value, profile_count) SELECT $4, $1, k, v, 1 FROM unnest($2::text[], $3::text[]) AS t(k, v) "
                        + "ON CONFLICT (tenant, service, key, value) DO UPDATE SET profile_count = label_values.profile_count + 1",
                        meta.Service, distinctKeys, distinctValues, meta.Tenant.Key));
                }

                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrors.UniqueViolation && exception.TableName == "profiles")
            {
                throw new InvalidOperationException($"profile {meta.ProfileId} is already stored", exception);
            }
            catch (Exception exception) when (attempt < MaxAttempts && PostgresErrors.IsRetryable(exception))
            {
                Log.TransactionRetried(_logger, ((PostgresException)exception).SqlState);
            }
            catch (Exception exception)
            {
                throw Unavailable(exception);
            }
        }
    }

    public async Task<int> DeleteProfilesStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var cutoffTicks = ToTicks(cutoff);
        var total = 0;
        while (true)
        {
            var ids = await DeleteBatchAsync(cutoffTicks, cancellationToken).ConfigureAwait(false);
            total += ids.Count;
            if (ids.Count > 0)
            {
                Log.RetentionBatchDeleted(_logger, ids.Count, cutoff);
                if (_blobStore is not null)
                {
                    // After the rows: a failure here leaves orphans, which the pass below (or the next) deletes.
                    await _blobStore.DeleteAsync(ids, cancellationToken).ConfigureAwait(false);
                }
            }

            if (ids.Count < _options.RetentionBatchProfiles)
            {
                if (_blobStore is not null)
                {
                    await DeleteOrphansAsync(cutoff, cancellationToken).ConfigureAwait(false);
                }

                if (_segments is not null)
                {
                    await DeleteEmptyAndOrphanSegmentsAsync(cutoff, cancellationToken).ConfigureAwait(false);
                }

                return total;
            }
        }
    }

    public async Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = await BuildFindAsync(connection, tenant, query, cancellationToken).ConfigureAwait(false);
            var metas = new List<ProfileMeta>();
            if (command is null)
            {
                return metas;
            }

            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    metas.Add(new ProfileMeta(
                        ProfileId.FromBytes(reader.GetFieldValue<byte[]>(0)),
                        (ProfileType)reader.GetInt16(1),
                        query.Service,
                        JoinLabels(reader.GetFieldValue<string[]>(3), reader.GetFieldValue<string[]>(4)),
                        FromTicks(reader.GetInt64(2)),
                        tenant));
                }
            }

            if (ProfileFindSql.NewestFirst(query))
            {
                metas.Reverse();
            }

            return metas;
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
    }

    public async IAsyncEnumerable<StoredProfile> ListProfilesAsync(
        TenantId tenant,
        IReadOnlyList<ProfileId> ids,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            yield break;
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        // Fetched a few at a time: a 1,000-profile merge never holds every profile's bytes at once. The next chunk
        // is fetched while the caller works through this one (decoding, merging), so neither waits for the other.
        Task<Dictionary<ProfileId, StoredProfile>>? next = ReadChunkAsync(tenant, ids, 0, Math.Min(_options.ReadBatchProfiles, ids.Count), cancellationToken);
        try
        {
            for (var start = 0; start < ids.Count; start += _options.ReadBatchProfiles)
            {
                var count = Math.Min(_options.ReadBatchProfiles, ids.Count - start);
                var found = await next!.ConfigureAwait(false);
                var nextStart = start + count;
                next = nextStart < ids.Count
                    ? ReadChunkAsync(tenant, ids, nextStart, Math.Min(_options.ReadBatchProfiles, ids.Count - nextStart), cancellationToken)
                    : null;
                for (var i = start; i < start + count; i++)
                {
                    if (found.TryGetValue(ids[i], out var profile))
                    {
                        yield return profile;
                    }
                }
            }
        }
        finally
        {
            if (next is not null)
            {
                // The caller stopped early: let the fetch in flight finish rather than leave it running unobserved.
                await ObserveAsync(next).ConfigureAwait(false);
            }
        }
    }

    private static async Task ObserveAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is StorageUnavailableException or OperationCanceledException or PostgresException)
        {
            // Nobody wants these profiles any more, so their failure does not matter either.
        }
    }

    public async Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = Command(_dataSource, "SELECT name FROM services WHERE tenant = $1 AND profile_count > 0", tenant.Key);
            var services = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    services.Add(reader.GetString(0));
                }
            }

            services.Sort(StringComparer.Ordinal);
            return services;
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
    }

    public async Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = service is null
                ? Command(_dataSource, "SELECT DISTINCT key, value FROM label_values WHERE tenant = $1 AND profile_count > 0", tenant.Key)
                : Command(_dataSource, "SELECT key, value FROM label_values WHERE tenant = $2 AND service = $1 AND profile_count > 0", service, tenant.Key);
            var labels = new LabelValuesBuilder();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    labels.Add(reader.GetString(0), reader.GetString(1));
                }
            }

            return labels.ToList();
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
    }

    public async Task<ProfileStorageStatistics> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = Command(_dataSource, """
                SELECT (SELECT coalesce(sum(profile_count), 0)::bigint FROM services),
                       (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = $1 AND c.relkind = 'r')
                """, _options.Schema);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new ProfileStorageStatistics(reader.GetInt64(0), reader.GetInt64(1));
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_groupCommit is not null)
        {
            // Writes gathering now are flushed and answered, not dropped.
            await _groupCommit.DisposeAsync().ConfigureAwait(false);
        }

        _schemaLock.Dispose();
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal static long ToTicks(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => time.ToUniversalTime().Ticks,
        _ => time.Ticks,
    };

    internal static DateTime FromTicks(long ticks) => new(ticks, DateTimeKind.Utc);

    /// <summary>Deletes the bytes written before <paramref name="cutoff"/> that no index row points at.</summary>
    private async Task DeleteOrphansAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        await foreach (var candidates in _blobStore!.ListWrittenBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false))
        {
            var wanted = new byte[candidates.Count][];
            for (var i = 0; i < candidates.Count; i++)
            {
                wanted[i] = candidates[i].Id.ToBytes();
            }

            var indexed = await SelectIndexedAsync(
                "SELECT id, tenant FROM profiles WHERE id = ANY($1)", wanted,
                static reader => new ProfileKey(TenantId.FromKey(reader.GetString(1)), ProfileId.FromBytes(reader.GetFieldValue<byte[]>(0))), cancellationToken).ConfigureAwait(false);

            var orphans = new List<ProfileKey>();
            foreach (var key in candidates)
            {
                if (!indexed.Contains(key))
                {
                    orphans.Add(key);
                }
            }

            if (orphans.Count > 0)
            {
                await _blobStore.DeleteAsync(orphans, cancellationToken).ConfigureAwait(false);
                Log.OrphansDeleted(_logger, orphans.Count, cutoff);
            }
        }
    }

    /// <summary>What <paramref name="sql"/> finds of <paramref name="ids"/> (its $1): the orphan sweeps' "which of these does the index know".</summary>
    private async Task<HashSet<T>> SelectIndexedAsync<T>(string sql, byte[][] ids, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        var indexed = new HashSet<T>();
        try
        {
            await using var command = Command(_dataSource, sql, (object)ids);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                indexed.Add(read(reader));
            }
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }

        return indexed;
    }

    private async Task<List<ProfileKey>> DeleteBatchAsync(long cutoffTicks, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var ids = new List<byte[]>();
                var deleted = new List<ProfileKey>();
                var serviceCounts = new SortedDictionary<(string Tenant, string Service, string Key, string Value), long>(LabelKeyComparer.Instance);
                var labelCounts = new SortedDictionary<(string Tenant, string Service, string Key, string Value), long>(LabelKeyComparer.Instance);
                // SKIP LOCKED: collectors running retention at the same time take different profiles.
                await using (var select = Command(connection, transaction,
                    "SELECT id, service, label_keys, label_values, tenant FROM profiles WHERE stored_at < $1 ORDER BY stored_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                    cutoffTicks, _options.RetentionBatchProfiles))
                await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        ids.Add(reader.GetFieldValue<byte[]>(0));
                        var tenant = reader.GetString(4);
                        deleted.Add(new ProfileKey(TenantId.FromKey(tenant), ProfileId.FromBytes(ids[^1])));
                        var service = reader.GetString(1);
                        var serviceKey = (tenant, service, "", "");
                        serviceCounts[serviceKey] = serviceCounts.GetValueOrDefault(serviceKey) + 1;
                        var keys = reader.GetFieldValue<string[]>(2);
                        var values = reader.GetFieldValue<string[]>(3);
                        var seen = new HashSet<(string, string)>();
                        for (var i = 0; i < keys.Length; i++)
                        {
                            if (seen.Add((keys[i], values[i])))
                            {
                                var label = (tenant, service, keys[i], values[i]);
                                labelCounts[label] = labelCounts.GetValueOrDefault(label) + 1;
                            }
                        }
                    }
                }

                if (ids.Count == 0)
                {
                    return deleted;
                }

                await using var batch = new NpgsqlBatch(connection, transaction);
                // Cascades to profile_labels and profile_data.
                batch.BatchCommands.Add(Command("DELETE FROM profiles WHERE id = ANY($1)", (object)ids.ToArray()));
                // One statement per counter row, in a fixed order, so concurrent retention passes cannot deadlock.
                foreach (var ((tenant, service, _, _), count) in serviceCounts)
                {
                    batch.BatchCommands.Add(Command("UPDATE services SET profile_count = profile_count - $2 WHERE tenant = $3 AND name = $1", service, count, tenant));
                }

                foreach (var ((tenant, service, key, value), count) in labelCounts)
                {
                    batch.BatchCommands.Add(Command(
                        "UPDATE label_values SET profile_count = profile_count - $4 WHERE tenant = $5 AND service = $1 AND key = $2 AND value = $3",
                        service, key, value, count, tenant));
                }

                batch.BatchCommands.Add(Command(
                    "DELETE FROM services WHERE (tenant, name) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND profile_count <= 0",
                    serviceCounts.Keys.Select(static s => s.Tenant).ToArray(),
                    serviceCounts.Keys.Select(static s => s.Service).ToArray()));
                batch.BatchCommands.Add(Command(
                    "DELETE FROM label_values WHERE (tenant, service, key, value) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])) AND profile_count <= 0",
                    labelCounts.Keys.Select(static l => l.Tenant).ToArray(),
                    labelCounts.Keys.Select(static l => l.Service).ToArray(),
                    labelCounts.Keys.Select(static l => l.Key).ToArray(),
                    labelCounts.Keys.Select(static l => l.Value).ToArray()));
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return deleted;
            }
            catch (Exception exception) when (attempt < MaxAttempts && PostgresErrors.IsRetryable(exception))
            {
                Log.TransactionRetried(_logger, ((PostgresException)exception).SqlState);
            }
            catch (Exception exception)
            {
                throw Unavailable(exception);
            }
        }
    }

    private async Task<Dictionary<ProfileId, StoredProfile>> ReadChunkAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, int start, int count, CancellationToken cancellationToken)
    {
        var wanted = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            wanted[i] = ids[start + i].ToBytes();
        }

        try
        {
            await using var command = Command(_dataSource, _blobStore is null && _segments is null
                ? """
                  SELECT p.id, p.service, p.type, p.created_at, p.label_keys, p.label_values, d.data
                  FROM profiles p JOIN profile_data d ON d.id = p.id
                  WHERE p.id = ANY($1) AND p.tenant = $2
                  """
                : """
                  SELECT p.id, p.service, p.type, p.created_at, p.label_keys, p.label_values, d.data, p.segment_id, p.segment_offset, p.data_size, s.size
                  FROM profiles p LEFT JOIN profile_data d ON d.id = p.id LEFT JOIN segments s ON s.id = p.segment_id
                  WHERE p.id = ANY($1) AND p.tenant = $2
                  """, (object)wanted, tenant.Key);
            var found = new Dictionary<ProfileId, StoredProfile>(count);
            List<ProfileMeta>? inBlobStore = null;
            List<SegmentRow>? inSegments = null;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var meta = new ProfileMeta(
                        ProfileId.FromBytes(reader.GetFieldValue<byte[]>(0)),
                        (ProfileType)reader.GetInt16(2),
                        reader.GetString(1),
                        JoinLabels(reader.GetFieldValue<string[]>(4), reader.GetFieldValue<string[]>(5)),
                        FromTicks(reader.GetInt64(3)),
                        tenant);
                    if (!reader.IsDBNull(6))
                    {
                        found[meta.ProfileId] = new StoredProfile(meta, reader.GetFieldValue<byte[]>(6));
                    }
                    else if (_segments is not null && !reader.IsDBNull(7) && !reader.IsDBNull(10))
                    {
                        (inSegments ??= []).Add(new SegmentRow(
                            meta, new SegmentId(ProfileId.FromBytes(reader.GetFieldValue<byte[]>(7))), reader.GetInt64(8), checked((int)reader.GetInt64(9)), reader.GetInt64(10)));
                    }
                    else if (reader.IsDBNull(7))
                    {
                        (inBlobStore ??= []).Add(meta);
                    }
                }
            }

            if (inBlobStore is not null && _blobStore is not null)
            {
                await ReadBlobsAsync(inBlobStore, found, cancellationToken).ConfigureAwait(false);
            }

            if (inSegments is not null)
            {
                await ReadSegmentsAsync(inSegments, found, cancellationToken).ConfigureAwait(false);
            }

            return found;
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
    }

    private async Task ReadBlobsAsync(List<ProfileMeta> metas, Dictionary<ProfileId, StoredProfile> found, CancellationToken cancellationToken)
    {
        var data = await _blobStore!.GetManyAsync(metas.ConvertAll(static m => new ProfileKey(m.Tenant, m.ProfileId)), cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < metas.Count; i++)
        {
            // No bytes: retention deleted the profile between the index read and this one; it is gone.
            if (data[i] is { } bytes)
            {
                found[metas[i].ProfileId] = new StoredProfile(metas[i], bytes);
            }
        }
    }

    /// <summary>The find as one statement, or null when it cannot match anything.</summary>
    private static async Task<NpgsqlCommand?> BuildFindAsync(NpgsqlConnection connection, TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        var from = ToTicks(query.From);
        var to = ToTicks(query.To);
        if (from > to)
        {
            return null;
        }

        List<Label>? labels = null;
        if (query.Labels.Count > 0)
        {
            labels = await OrderBySelectivityAsync(connection, tenant, query.Service, query.Labels, cancellationToken).ConfigureAwait(false);
            if (labels is null)
            {
                return null;
            }
        }

        var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.Add(new NpgsqlParameter<string>("tenant", tenant.Key));
        command.Parameters.Add(new NpgsqlParameter<string>("service", query.Service));
        command.Parameters.Add(new NpgsqlParameter<long>("from", from));
        command.Parameters.Add(new NpgsqlParameter<long>("to", to));
        command.Parameters.Add(new NpgsqlParameter<short>("type", (short)(query.Type ?? ProfileType.Unknown)));

        for (var i = 0; labels is not null && i < labels.Count; i++)
        {
            command.Parameters.Add(new NpgsqlParameter<string>("k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), labels[i].Key));
            command.Parameters.Add(new NpgsqlParameter<string>("v" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), labels[i].Value));
        }

        if (query.Limit > 0)
        {
            command.Parameters.Add(new NpgsqlParameter<int>("limit", query.Limit));
        }

        command.CommandText = FindSql.Build(query, labels);
        return command;
    }

    /// <summary>The distinct labels asked for, rarest first; null when one of them is on no profile of the service.</summary>
    private static async Task<List<Label>?> OrderBySelectivityAsync(NpgsqlConnection connection, TenantId tenant, string service, IReadOnlyList<Label> labels, CancellationToken cancellationToken)
    {
        var distinct = new List<Label>(labels.Count);
        foreach (var label in labels)
        {
            if (!distinct.Contains(label))
            {
                distinct.Add(label);
            }
        }

        await using var command = Command(connection, null,
            "SELECT key, value, profile_count FROM label_values WHERE tenant = $4 AND service = $1 AND (key, value) IN (SELECT * FROM unnest($2::text[], $3::text[])) AND profile_count > 0",
            service, distinct.ConvertAll(static l => l.Key).ToArray(), distinct.ConvertAll(static l => l.Value).ToArray(), tenant.Key);
        var counts = new Dictionary<Label, long>(distinct.Count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                counts[new Label(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
            }
        }

        if (counts.Count < distinct.Count)
        {
            return null;
        }

        distinct.Sort((a, b) => counts[a].CompareTo(counts[b]));
        return distinct;
    }

    private static (string[] Keys, string[] Values) SplitLabels(IReadOnlyList<Label> labels)
    {
        var keys = new string[labels.Count];
        var values = new string[labels.Count];
        for (var i = 0; i < labels.Count; i++)
        {
            keys[i] = labels[i].Key;
            values[i] = labels[i].Value;
        }

        return (keys, values);
    }

    /// <summary>Each distinct label once, sorted ordinally: the order every writer locks label counters in.</summary>
    private static (string[] Keys, string[] Values) DistinctLabels(IReadOnlyList<Label> labels)
    {
        var set = new SortedSet<(string Key, string Value)>(Comparer<(string Key, string Value)>.Create(static (a, b) =>
        {
            var key = string.CompareOrdinal(a.Key, b.Key);
            return key != 0 ? key : string.CompareOrdinal(a.Value, b.Value);
        }));
        foreach (var label in labels)
        {
            set.Add((label.Key, label.Value));
        }

        var keys = new string[set.Count];
        var values = new string[set.Count];
        var i = 0;
        foreach (var (key, value) in set)
        {
            keys[i] = key;
            values[i] = value;
            i++;
        }

        return (keys, values);
    }

    private static Label[] JoinLabels(string[] keys, string[] values)
    {
        var labels = new Label[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            labels[i] = new Label(keys[i], values[i]);
        }

        return labels;
    }

    internal static NpgsqlBatchCommand Command(string sql, params object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(Parameter(parameter));
        }

        return command;
    }

    internal static NpgsqlCommand Command(NpgsqlDataSource dataSource, string sql, params object[] parameters)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(Parameter(parameter));
        }

        return command;
    }

    internal static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(Parameter(parameter));
        }

        return command;
    }

    private static NpgsqlParameter Parameter(object value) => value switch
    {
        ReadOnlyMemory<byte> bytes => new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = bytes, NpgsqlDbType = NpgsqlDbType.Bytea },
        byte[] bytes => new NpgsqlParameter<byte[]> { TypedValue = bytes, NpgsqlDbType = NpgsqlDbType.Bytea },
        byte[][] ids => new NpgsqlParameter<byte[][]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
        string[] texts => new NpgsqlParameter<string[]> { TypedValue = texts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
        _ => new NpgsqlParameter { Value = value },
    };

    private StorageUnavailableException Unavailable(Exception exception)
    {
        var mapped = PostgresErrors.ToStorageException(exception);
        if (mapped is StorageUnavailableException unavailable)
        {
            if (!ReferenceEquals(mapped, exception))
            {
                Log.Unavailable(_logger, unavailable.Message, exception);
                if (exception is not PostgresException)
                {
                    // The connection broke (server restarted, network): idle pooled connections are most likely
                    // broken too. Dropping them lets the next request connect afresh instead of failing again.
                    _dataSource.Clear();
                }
            }

            return unavailable;
        }

        // Not a dependency failure (cancellation, a bug): let it through unchanged.
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(mapped);
        throw mapped;
    }

    private sealed class LabelKeyComparer : IComparer<(string Tenant, string Service, string Key, string Value)>
    {
        public static readonly LabelKeyComparer Instance = new();

        public int Compare((string Tenant, string Service, string Key, string Value) x, (string Tenant, string Service, string Key, string Value) y)
        {
            var result = string.CompareOrdinal(x.Tenant, y.Tenant);
            if (result == 0)
            {
                result = string.CompareOrdinal(x.Service, y.Service);
            }

            if (result == 0)
            {
                result = string.CompareOrdinal(x.Key, y.Key);
            }

            return result != 0 ? result : string.CompareOrdinal(x.Value, y.Value);
        }
    }
}
