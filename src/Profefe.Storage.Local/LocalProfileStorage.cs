using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Storage.Local;

/// <summary>
/// The embedded store in the data directory: the profiles' bytes in append-only segment files, synced before a
/// write is acknowledged (by default) so it survives a crash, and their meta in a SQLite database (WAL mode) that
/// indexes them. Writes go through one group-commit writer; reads use their own pooled connections, which WAL
/// lets run beside the writer.
/// </summary>
public sealed partial class LocalProfileStorage
    : IProfileWriter, IProfileReader, IProfileRetention, IProfileStorageStatistics, IDisposable, IAsyncDisposable
{
    public const string DatabaseFileName = "profefe.db";

    // Held for the store's lifetime so a second collector cannot open the same directory.
    private const string LockFileName = "profefe.lock";

    // SQLite's planner keeps the order of CROSS JOINs, which is what makes the rarest label drive the find.
    private static readonly ProfileFindSql FindSql = new("$", ["service_id"], ["id", "type", "created_at", "labels"], "seq");

    private readonly LocalStorageOptions _options;
    private readonly ILogger _logger;
    private readonly string _readConnectionString;
    private readonly FileStream _lockFile;
    private readonly SqliteConnection _writeConnection;
    private readonly LocalProfileWriter _writer;
    private readonly WalCheckpointer _checkpointer;
    private readonly ProfileSegmentLog _segments;
    private readonly ConcurrentBag<SqliteConnection> _idleReaders = [];
    private readonly ConcurrentDictionary<(string Tenant, string Service), long> _serviceIds = new();
    private int _idleReaderCount;
    private int _disposed;

    public LocalProfileStorage(LocalStorageOptions options, ILogger<LocalProfileStorage>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (new LocalStorageOptionsValidator().Validate(null, options) is { Failed: true } invalid)
        {
            throw new ArgumentException(invalid.FailureMessage, nameof(options));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        DataDirectory = Path.GetFullPath(options.DataDirectory);
        DatabasePath = Path.Combine(DataDirectory, DatabaseFileName);
        try
        {
            Directory.CreateDirectory(DataDirectory);
            _lockFile = OpenLockFile(DataDirectory);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(SqliteErrors.Dependency, $"local store: cannot use data directory {DataDirectory}: {exception.Message}", exception);
        }

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            // Connections are pooled here, with their prepared statements, not by the provider.
            Pooling = false,
        };
        _readConnectionString = builder.ToString();
        try
        {
            _writeConnection = new SqliteConnection(builder.ToString());
            _writeConnection.Open();
            Execute(_writeConnection, """
                PRAGMA journal_mode = WAL;
                PRAGMA journal_size_limit = 67108864;
                PRAGMA wal_autocheckpoint = 0;
                PRAGMA busy_timeout = 5000;
                PRAGMA temp_store = MEMORY;
                PRAGMA synchronous = NORMAL;
                """);
            if (options.MaxPageCount is { } maxPages)
            {
                Execute(_writeConnection, $"PRAGMA max_page_count = {maxPages}");
            }

            // Some file systems cannot do WAL; then SQLite silently stays in another mode. Refuse instead
            // of running without the durability the collector promises. The index commits without syncing
            // (NORMAL); the segment log carries durability (see LocalProfileWriter).
            JournalMode = Convert.ToString(Scalar(_writeConnection, "PRAGMA journal_mode"), System.Globalization.CultureInfo.InvariantCulture) ?? "";
            var synchronous = Convert.ToInt32(Scalar(_writeConnection, "PRAGMA synchronous"), System.Globalization.CultureInfo.InvariantCulture);
            if (!string.Equals(JournalMode, "wal", StringComparison.OrdinalIgnoreCase) || synchronous != (int)LocalStorageSynchronous.Normal)
            {
                throw new NotSupportedException($"the database at {DatabasePath} cannot use write-ahead logging (journal_mode={JournalMode}, synchronous={synchronous})");
            }

            LocalSchema.Apply(_writeConnection);
            _segments = new ProfileSegmentLog(DataDirectory, options.SegmentBytes, options.MaxDataBytes);
            _checkpointer = new WalCheckpointer(_readConnectionString, _logger);
            _writer = new LocalProfileWriter(_writeConnection, _checkpointer, _segments, DatabasePath + "-wal", options, _logger);
            _writer.Recover();
            _writer.Start();
        }
        catch (Exception exception)
        {
            _writer?.Dispose();
            _checkpointer?.Dispose();
            _segments?.Dispose();
            _writeConnection?.Dispose();
            _lockFile.Dispose();
            throw exception is NotSupportedException or InvalidDataException
                ? new StorageUnavailableException(SqliteErrors.Dependency, $"local store: {exception.Message}", exception)
                : SqliteErrors.ToStorageException(exception);
        }

        Log.StoreOpened(_logger, DatabasePath, LocalSchema.Version);
    }

    public string DataDirectory { get; }

    public string DatabasePath { get; }

    /// <summary>The writer's journal mode as SQLite reports it ("wal").</summary>
    internal string JournalMode { get; }

    /// <summary>Whether each group commit syncs the segment log (Full) or leaves that to the OS (Normal).</summary>
    internal LocalStorageSynchronous Synchronous => _options.Synchronous;

    /// <summary>The directory of the segment files that hold the profiles' bytes.</summary>
    internal string SegmentDirectory => _segments.Directory;

    public Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meta);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _writer.WriteAsync(meta, data, cancellationToken);
    }

    public async Task<int> DeleteProfilesStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var cutoffTicks = ToTicks(cutoff);
        var total = 0;
        while (true)
        {
            // One small transaction at a time: writes queued meanwhile are committed between batches.
            var deleted = await _writer.DeleteBatchAsync(cutoffTicks, cancellationToken).ConfigureAwait(false);
            total += deleted;
            if (deleted > 0)
            {
                Log.RetentionBatchDeleted(_logger, deleted, cutoff);
            }

            if (deleted < _options.RetentionBatchProfiles)
            {
                return total;
            }
        }
    }

    public Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        var connection = RentReader();
        try
        {
            return Task.FromResult<IReadOnlyList<ProfileMeta>>(Find(connection, tenant, query));
        }
        catch (Exception exception)
        {
            throw SqliteErrors.ToStorageException(exception);
        }
        finally
        {
            ReturnReader(connection);
        }
    }

    public IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return ReadProfiles(tenant, ids, cancellationToken).ToAsyncEnumerable();
    }

    public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var connection = RentReader();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM services WHERE tenant = $tenant AND profile_count > 0";
            command.Parameters.AddWithValue("$tenant", tenant.Key);
            var services = new List<string>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    services.Add(reader.GetString(0));
                }
            }

            services.Sort(StringComparer.Ordinal);
            return Task.FromResult<IReadOnlyList<string>>(services);
        }
        catch (Exception exception)
        {
            throw SqliteErrors.ToStorageException(exception);
        }
        finally
        {
            ReturnReader(connection);
        }
    }

    public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var connection = RentReader();
        try
        {
            using var command = connection.CreateCommand();
            if (service is null)
            {
                command.CommandText = """
                    SELECT DISTINCT l.key, l.value FROM services s JOIN label_values l ON l.service_id = s.service_id
                    WHERE s.tenant = $tenant AND l.profile_count > 0
                    """;
                command.Parameters.AddWithValue("$tenant", tenant.Key);
            }
            else
            {
                var serviceId = LookupServiceId(connection, tenant, service);
                if (serviceId is null)
                {
                    return Task.FromResult<IReadOnlyList<LabelValues>>([]);
                }

                command.CommandText = "SELECT key, value FROM label_values WHERE service_id = $service AND profile_count > 0";
                command.Parameters.AddWithValue("$service", serviceId.Value);
            }

            var labels = new LabelValuesBuilder();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    labels.Add(reader.GetString(0), reader.GetString(1));
                }
            }

            return Task.FromResult<IReadOnlyList<LabelValues>>(labels.ToList());
        }
        catch (Exception exception)
        {
            throw SqliteErrors.ToStorageException(exception);
        }
        finally
        {
            ReturnReader(connection);
        }
    }

    public Task<ProfileStorageStatistics> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var connection = RentReader();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT coalesce(sum(profile_count), 0) FROM services";
            var count = (long)command.ExecuteScalar()!;
            var bytes = _segments.TotalBytes;
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                var file = new FileInfo(DatabasePath + suffix);
                if (file.Exists)
                {
                    bytes += file.Length;
                }
            }

            return Task.FromResult(new ProfileStorageStatistics(count, bytes));
        }
        catch (Exception exception)
        {
            throw SqliteErrors.ToStorageException(exception);
        }
        finally
        {
            ReturnReader(connection);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Queued writes are finished, not dropped: their callers are still waiting for an answer.
        _writer.Dispose();
        _segments.Dispose();
        _checkpointer.Dispose();
        try
        {
            Execute(_writeConnection, "PRAGMA wal_checkpoint(TRUNCATE)");
        }
        catch (SqliteException exception)
        {
            Log.CheckpointFailed(_logger, exception);
        }

        _writeConnection.Dispose();
        while (_idleReaders.TryTake(out var reader))
        {
            reader.Dispose();
        }

        _lockFile.Dispose();
        Log.StoreClosed(_logger, DatabasePath);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed == 0)
        {
            _writer.Complete();
            await _writer.Stopped.ConfigureAwait(false);
        }

        Dispose();
    }

    internal static long ToTicks(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => time.ToUniversalTime().Ticks,
        _ => time.Ticks,
    };

    internal static DateTime FromTicks(long ticks) => new(ticks, DateTimeKind.Utc);

    private static FileStream OpenLockFile(string directory)
    {
        try
        {
            return new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception)
        {
            throw new IOException($"it is in use by another process ({exception.Message})", exception);
        }
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <param name="tenant">Whose profiles to read (others' ids are left out as unknown ones are); null for any tenant's (the engine's log).</param>
    private IEnumerable<StoredProfile> ReadProfiles(TenantId? tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            yield break;
        }

        var connection = RentReader();
        var command = connection.CreateCommand();
        // One handle per segment for the whole read: a merge's profiles mostly share a few segments.
        var handles = new Dictionary<long, SafeFileHandle>();
        try
        {
            // Rows written before schema version 2 have no segment; their bytes are in profile_data.
            command.CommandText = "SELECT " + StoredColumns + " WHERE p.id = $id" + (tenant is null ? "" : " AND s.tenant = $tenant");
            var parameter = command.Parameters.Add("$id", SqliteType.Blob);
            if (tenant is { } only)
            {
                command.Parameters.AddWithValue("$tenant", only.Key);
            }

            foreach (var id in ids)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var profile = ReadProfile(command, parameter, handles, id);
                if (profile is not null)
                {
                    yield return profile;
                }
            }
        }
        finally
        {
            foreach (var handle in handles.Values)
            {
                handle.Dispose();
            }

            command.Dispose();
            ReturnReader(connection);
        }
    }

    private StoredProfile? ReadProfile(SqliteCommand command, SqliteParameter parameter, Dictionary<long, SafeFileHandle> handles, ProfileId id)
    {
        try
        {
            parameter.Value = id.ToBytes();
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            return ReadStored(reader, 0, id, handles, null);
        }
        catch (InvalidDataException exception)
        {
            throw new StorageUnavailableException(SqliteErrors.Dependency, $"local store: {exception.Message}", exception);
        }
        catch (Exception exception)
        {
            throw SqliteErrors.ToStorageException(exception);
        }
    }

    // Rows written before schema version 2 have no segment; their bytes are in profile_data.
    private const string StoredColumns = """
        p.type, p.created_at, p.labels, s.name, p.segment, p.record_offset, p.record_length, d.data, s.tenant
        FROM profiles p JOIN services s ON s.service_id = p.service_id
        LEFT JOIN profile_data d ON p.segment IS NULL AND d.seq = p.seq
        """;

    /// <summary>
    /// The profile whose <see cref="StoredColumns"/> start at column <paramref name="first"/>; null when retention
    /// deleted its segment since the row was read. <paramref name="labels"/>, when given, shares decoded label sets.
    /// </summary>
    private StoredProfile? ReadStored(
        SqliteDataReader reader, int first, ProfileId id, Dictionary<long, SafeFileHandle> handles, Dictionary<byte[], IReadOnlyList<Label>>? labels)
    {
        var blob = (byte[])reader.GetValue(first + 2);
        IReadOnlyList<Label> decoded;
        if (labels is null)
        {
            decoded = LabelCodec.Decode(blob);
        }
        else if (!labels.TryGetValue(blob, out decoded!))
        {
            decoded = LabelCodec.Decode(blob);
            labels[blob] = decoded;
        }

        var meta = new ProfileMeta(
            id,
            (ProfileType)reader.GetInt64(first),
            reader.GetString(first + 3),
            decoded,
            FromTicks(reader.GetInt64(first + 1)),
            TenantId.FromKey(reader.GetString(first + 8)));
        if (reader.IsDBNull(first + 4))
        {
            return new StoredProfile(meta, (byte[])reader.GetValue(first + 7));
        }

        var record = ProfileSegmentLog.Read(handles, _segments.Directory, reader.GetInt64(first + 4), reader.GetInt64(first + 5), reader.GetInt32(first + 6));
        return record is null ? null : new StoredProfile(meta, ProfileSegmentRecord.Data(record, id));
    }

    private List<ProfileMeta> Find(SqliteConnection connection, TenantId tenant, ProfileQuery query)
    {
        using var command = BuildFind(connection, tenant, query);
        var metas = new List<ProfileMeta>();
        if (command is null)
        {
            return metas;
        }

        // Most of a service's profiles carry the same labels: decode each distinct set once and share it.
        var decoded = new Dictionary<byte[], IReadOnlyList<Label>>(LabelBlobComparer.Instance);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var blob = (byte[])reader.GetValue(3);
                if (!decoded.TryGetValue(blob, out var labels))
                {
                    labels = LabelCodec.Decode(blob);
                    decoded.Add(blob, labels);
                }

                metas.Add(new ProfileMeta(
                    ProfileId.FromBytes((byte[])reader.GetValue(0)),
                    (ProfileType)reader.GetInt64(1),
                    query.Service,
                    labels,
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

    /// <summary>SQLite's plan for <paramref name="query"/>, so tests can check that finds only search indexes.</summary>
    internal List<string> ExplainFind(ProfileQuery query, TenantId tenant = default)
    {
        var connection = RentReader();
        try
        {
            using var command = BuildFind(connection, tenant, query) ?? throw new InvalidOperationException("the query matches nothing without running");
            command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
            var plan = new List<string>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }

            return plan;
        }
        finally
        {
            ReturnReader(connection);
        }
    }

    /// <summary>The find as one statement, or null when it cannot match anything.</summary>
    private SqliteCommand? BuildFind(SqliteConnection connection, TenantId tenant, ProfileQuery query)
    {
        var from = ToTicks(query.From);
        var to = ToTicks(query.To);
        var serviceId = LookupServiceId(connection, tenant, query.Service);
        if (serviceId is null || from > to)
        {
            return null;
        }

        List<Label>? labels = null;
        if (query.Labels.Count > 0)
        {
            labels = OrderBySelectivity(connection, serviceId.Value, query.Labels);
            if (labels is null)
            {
                return null;
            }
        }

        var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$service_id", serviceId.Value);
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        if (query.Type is { } type)
        {
            command.Parameters.AddWithValue("$type", (long)type);
        }

        for (var i = 0; labels is not null && i < labels.Count; i++)
        {
            command.Parameters.AddWithValue("$k" + i, labels[i].Key);
            command.Parameters.AddWithValue("$v" + i, labels[i].Value);
        }

        if (query.Limit > 0)
        {
            command.Parameters.AddWithValue("$limit", query.Limit);
        }

        command.CommandText = FindSql.Build(query, labels);
        return command;
    }

    /// <summary>The distinct labels asked for, rarest first; null when one of them is on no profile.</summary>
    private static List<Label>? OrderBySelectivity(SqliteConnection connection, long serviceId, IReadOnlyList<Label> labels)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT profile_count FROM label_values WHERE service_id = $service AND key = $key AND value = $value";
        command.Parameters.AddWithValue("$service", serviceId);
        var key = command.Parameters.Add("$key", SqliteType.Text);
        var value = command.Parameters.Add("$value", SqliteType.Text);
        var counted = new List<(Label Label, long Count)>(labels.Count);
        foreach (var label in labels)
        {
            if (counted.Exists(c => c.Label == label))
            {
                continue;
            }

            key.Value = label.Key;
            value.Value = label.Value;
            if (command.ExecuteScalar() is not long count || count <= 0)
            {
                return null;
            }

            counted.Add((label, count));
        }

        counted.Sort(static (a, b) => a.Count.CompareTo(b.Count));
        return counted.ConvertAll(static c => c.Label);
    }

    private long? LookupServiceId(SqliteConnection connection, TenantId tenant, string service)
    {
        if (_serviceIds.TryGetValue((tenant.Key, service), out var cached))
        {
            return cached;
        }

        using var command = connection.CreateCommand();
        command.CommandText = "SELECT service_id FROM services WHERE tenant = $tenant AND name = $name";
        command.Parameters.AddWithValue("$tenant", tenant.Key);
        command.Parameters.AddWithValue("$name", service);
        if (command.ExecuteScalar() is not long id)
        {
            return null;
        }

        // Service rows are never deleted, so a committed id can be remembered for good.
        _serviceIds.TryAdd((tenant.Key, service), id);
        return id;
    }

    private SqliteConnection RentReader()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_idleReaders.TryTake(out var connection))
        {
            Interlocked.Decrement(ref _idleReaderCount);
            return connection;
        }

        try
        {
            connection = new SqliteConnection(_readConnectionString);
            connection.Open();
            Execute(connection, "PRAGMA query_only = 1");
            return connection;
        }
        catch (Exception exception)
        {
            connection?.Dispose();
            throw SqliteErrors.ToStorageException(exception);
        }
    }

    private void ReturnReader(SqliteConnection connection)
    {
        if (_disposed == 0 && Interlocked.Increment(ref _idleReaderCount) <= _options.ReadConnections)
        {
            _idleReaders.Add(connection);
            return;
        }

        Interlocked.Decrement(ref _idleReaderCount);
        connection.Dispose();
    }
}
