using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Profefe.Core;

namespace Profefe.Storage.Local;

/// <summary>
/// The one writer of the database. Callers queue commands; a dedicated thread takes every write that is
/// waiting, commits them in one transaction (group commit: one WAL sync for many profiles) and only then
/// completes their tasks, so an acknowledged write is durable and a failed one left nothing behind.
/// Retention deletes go through the same queue in small batches, so ingest never waits long behind them.
/// </summary>
internal sealed class LocalProfileWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly LocalStorageOptions _options;
    private readonly ILogger _logger;
    // A plain queue under a monitor: the writer thread sleeps in Monitor.Wait and is pulsed only when it
    // sleeps. Blocking on a channel's wait task spun (sched_yield) before every sleep, CPU that ingest
    // needs on a small machine.
    private readonly Queue<WriterCommand> _commands = new();
    private readonly object _commandsGate = new();
    private bool _writerSleeping;
    private bool _completed;

    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Service rows are never deleted, so an id once committed stays valid; the cache is dropped on rollback.
    private readonly Dictionary<string, long> _serviceIds = new(StringComparer.Ordinal);
    private readonly Dictionary<long, long> _serviceDeltas = [];
    private readonly Dictionary<(long ServiceId, string Key, string Value), long> _labelDeltas = [];

    private readonly SqliteCommand _insertProfile;
    private readonly SqliteCommand _insertData;
    private readonly SqliteCommand _insertLabel;
    private readonly SqliteCommand _upsertService;
    private readonly SqliteCommand _addServiceCount;
    private readonly SqliteCommand _addLabelCount;
    private readonly SqliteCommand _removeEmptyLabel;
    private readonly SqliteCommand _selectExpired;
    private readonly SqliteCommand _deleteLabel;
    private readonly SqliteCommand _deleteData;
    private readonly SqliteCommand _deleteProfile;

    private readonly WalCheckpointer _checkpointer;
    private readonly string _walPath;
    private long _bytesSinceCheckpoint;

    public LocalProfileWriter(SqliteConnection connection, WalCheckpointer checkpointer, string walPath, LocalStorageOptions options, ILogger logger)
    {
        _connection = connection;
        _checkpointer = checkpointer;
        _walPath = walPath;
        _options = options;
        _logger = logger;
        _insertProfile = Prepare(
            "INSERT INTO profiles(id, service_id, type, created_at, stored_at, labels) VALUES($id, $service, $type, $created, $stored, $labels) RETURNING seq",
            "$id", "$service", "$type", "$created", "$stored", "$labels");
        _insertData = Prepare("INSERT INTO profile_data(seq, data) VALUES($seq, $data)", "$seq", "$data");
        _insertLabel = Prepare(
            "INSERT OR IGNORE INTO profile_labels(service_id, key, value, created_at, id, type, seq) VALUES($service, $key, $value, $created, $id, $type, $seq)",
            "$service", "$key", "$value", "$created", "$id", "$type", "$seq");
        _upsertService = Prepare(
            "INSERT INTO services(name) VALUES($name) ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING service_id",
            "$name");
        _addServiceCount = Prepare("UPDATE services SET profile_count = profile_count + $delta WHERE service_id = $service", "$delta", "$service");
        _addLabelCount = Prepare(
            "INSERT INTO label_values(service_id, key, value, profile_count) VALUES($service, $key, $value, $delta) "
            + "ON CONFLICT(service_id, key, value) DO UPDATE SET profile_count = profile_count + excluded.profile_count",
            "$service", "$key", "$value", "$delta");
        _removeEmptyLabel = Prepare(
            "DELETE FROM label_values WHERE service_id = $service AND key = $key AND value = $value AND profile_count <= 0",
            "$service", "$key", "$value");
        _selectExpired = Prepare(
            "SELECT seq, id, service_id, created_at, labels FROM profiles WHERE stored_at < $cutoff ORDER BY stored_at LIMIT $limit",
            "$cutoff", "$limit");
        _deleteLabel = Prepare(
            "DELETE FROM profile_labels WHERE service_id = $service AND key = $key AND value = $value AND created_at = $created AND id = $id",
            "$service", "$key", "$value", "$created", "$id");
        _deleteData = Prepare("DELETE FROM profile_data WHERE seq = $seq", "$seq");
        _deleteProfile = Prepare("DELETE FROM profiles WHERE seq = $seq", "$seq");

        _thread = new Thread(Run) { IsBackground = true, Name = "profefe-local-writer" };
        _thread.Start();
    }

    /// <summary>Write transactions committed, and profiles in them: their ratio is the group-commit batch size.</summary>
    internal long Commits { get; private set; }

    internal long CommittedProfiles { get; private set; }

    /// <summary>Completes when the writer thread has finished every queued command.</summary>
    public Task Stopped => _stopped.Task;

    public Task WriteAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // The bytes are copied now: once queued, the caller may give up and reuse its buffer.
        var command = new WriteCommand(meta, data.ToArray(), cancellationToken);
        Enqueue(command);
        return command.Completion.Task;
    }

    public Task<int> DeleteBatchAsync(long cutoffTicks, CancellationToken cancellationToken)
    {
        var command = new DeleteCommand(cutoffTicks, cancellationToken);
        Enqueue(command);
        return command.Completion.Task;
    }

    /// <summary>Stops taking commands and lets the thread finish the queued ones.</summary>
    public void Complete()
    {
        lock (_commandsGate)
        {
            _completed = true;
            Monitor.Pulse(_commandsGate);
        }
    }

    public void Dispose()
    {
        Complete();
        _thread.Join();
        foreach (var command in new[]
        {
            _insertProfile, _insertData, _insertLabel, _upsertService, _addServiceCount, _addLabelCount,
            _removeEmptyLabel, _selectExpired, _deleteLabel, _deleteData, _deleteProfile,
        })
        {
            command.Dispose();
        }
    }

    private void Enqueue(WriterCommand command)
    {
        lock (_commandsGate)
        {
            if (_completed)
            {
                throw new ObjectDisposedException(nameof(LocalProfileStorage), "the local store is closed");
            }

            _commands.Enqueue(command);
            if (_writerSleeping)
            {
                Monitor.Pulse(_commandsGate);
            }
        }
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    private void Run()
    {
        var batch = new List<WriteCommand>(_options.MaxBatchProfiles);
        try
        {
            while (true)
            {
                DeleteCommand? delete = null;
                lock (_commandsGate)
                {
                    // A dedicated thread may block: it has nothing else to do until a command arrives.
                    // Queued commands are still carried out after Complete.
                    while (_commands.Count == 0)
                    {
                        if (_completed)
                        {
                            return;
                        }

                        _writerSleeping = true;
                        Monitor.Wait(_commandsGate);
                        _writerSleeping = false;
                    }

                    var first = _commands.Dequeue();
                    if (first is DeleteCommand deleteCommand)
                    {
                        delete = deleteCommand;
                    }
                    else
                    {
                        var write = (WriteCommand)first;
                        batch.Add(write);
                        long bytes = write.Data.Length;
                        while (batch.Count < _options.MaxBatchProfiles
                            && bytes < _options.MaxBatchBytes
                            && _commands.TryPeek(out var next)
                            && next is WriteCommand nextWrite)
                        {
                            _commands.Dequeue();
                            batch.Add(nextWrite);
                            bytes += nextWrite.Data.Length;
                        }
                    }
                }

                if (delete is not null)
                {
                    ExecuteDelete(delete);
                    continue;
                }

                ExecuteWrites(batch);
                batch.Clear();
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void ExecuteWrites(List<WriteCommand> batch)
    {
        // Requests given up before their commit started are not stored, and say so.
        batch.RemoveAll(static command =>
        {
            if (command.CancellationToken.IsCancellationRequested)
            {
                command.Completion.TrySetCanceled(command.CancellationToken);
                return true;
            }

            return false;
        });
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            Commit(batch);
            foreach (var command in batch)
            {
                command.Completion.TrySetResult();
            }
        }
        catch (Exception exception) when (batch.Count > 1 && SqliteErrors.IsConstraint(exception))
        {
            // One bad profile (a duplicate id) must not fail the others that happened to share its batch.
            foreach (var command in batch)
            {
                try
                {
                    Commit([command]);
                    command.Completion.TrySetResult();
                }
                catch (Exception single)
                {
                    Fail(command, single);
                }
            }
        }
        catch (Exception exception)
        {
            Log.WriteBatchFailed(_logger, batch.Count, exception);
            foreach (var command in batch)
            {
                Fail(command, exception);
            }
        }
    }

    private static void Fail(WriteCommand command, Exception exception)
    {
        var failure = SqliteErrors.IsConstraint(exception)
            ? new InvalidOperationException($"profile {command.Meta.ProfileId} is already stored", exception)
            : SqliteErrors.ToStorageException(exception);
        command.Completion.TrySetException(failure);
    }

    private void Commit(List<WriteCommand> batch)
    {
        _serviceDeltas.Clear();
        _labelDeltas.Clear();
        using var transaction = _connection.BeginTransaction(deferred: false);
        try
        {
            foreach (var command in batch)
            {
                Insert(transaction, command);
            }

            ApplyCounts(transaction);
            transaction.Commit();
            Commits++;
            CommittedProfiles += batch.Count;
            foreach (var command in batch)
            {
                _bytesSinceCheckpoint += command.Data.Length;
            }

            if (_bytesSinceCheckpoint >= WalCheckpointer.SignalEveryBytes)
            {
                _bytesSinceCheckpoint = 0;
                _checkpointer.Request();
            }

            BoundWal();
        }
        catch
        {
            // Ids of services created in the rolled-back transaction do not exist.
            _serviceIds.Clear();
            throw;
        }
    }

    /// <summary>Empties the log here when the background checkpointer could not keep it small (one stat per commit).</summary>
    private void BoundWal()
    {
        try
        {
            if (new FileInfo(_walPath).Length > WalCheckpointer.MaxWalBytes)
            {
                WalCheckpointer.Truncate(_connection);
            }
        }
        catch (Exception exception) when (exception is SqliteException or IOException)
        {
            // Only the log's size is at stake; the next commit tries again.
            Log.CheckpointFailed(_logger, exception);
        }
    }

    private void Insert(SqliteTransaction transaction, WriteCommand command)
    {
        var meta = command.Meta;
        var serviceId = ServiceId(transaction, meta.Service);
        var id = meta.ProfileId.ToBytes();
        var created = LocalProfileStorage.ToTicks(meta.CreatedAt);
        var type = (long)meta.Type;

        _insertProfile.Transaction = transaction;
        _insertProfile.Parameters[0].Value = id;
        _insertProfile.Parameters[1].Value = serviceId;
        _insertProfile.Parameters[2].Value = type;
        _insertProfile.Parameters[3].Value = created;
        _insertProfile.Parameters[4].Value = LocalProfileStorage.ToTicks(meta.StoredAt);
        _insertProfile.Parameters[5].Value = LabelCodec.Encode(meta.Labels);
        var seq = (long)_insertProfile.ExecuteScalar()!;

        _insertData.Transaction = transaction;
        _insertData.Parameters[0].Value = seq;
        _insertData.Parameters[1].Value = command.Data;
        _insertData.ExecuteNonQuery();

        var labels = meta.Labels;
        if (labels.Count == 0)
        {
            AddDelta(_serviceDeltas, serviceId, 1);
            return;
        }

        _insertLabel.Transaction = transaction;
        _insertLabel.Parameters[0].Value = serviceId;
        _insertLabel.Parameters[3].Value = created;
        _insertLabel.Parameters[4].Value = id;
        _insertLabel.Parameters[5].Value = type;
        _insertLabel.Parameters[6].Value = seq;
        for (var i = 0; i < labels.Count; i++)
        {
            _insertLabel.Parameters[1].Value = labels[i].Key;
            _insertLabel.Parameters[2].Value = labels[i].Value;

            // A profile may carry the same key=value twice; it counts once towards the label's profiles.
            if (_insertLabel.ExecuteNonQuery() == 1)
            {
                var key = (serviceId, labels[i].Key, labels[i].Value);
                _labelDeltas[key] = _labelDeltas.GetValueOrDefault(key) + 1;
            }
        }

        AddDelta(_serviceDeltas, serviceId, 1);
    }

    private static void AddDelta(Dictionary<long, long> deltas, long key, long delta) =>
        deltas[key] = deltas.GetValueOrDefault(key) + delta;

    private long ServiceId(SqliteTransaction transaction, string service)
    {
        if (_serviceIds.TryGetValue(service, out var id))
        {
            return id;
        }

        _upsertService.Transaction = transaction;
        _upsertService.Parameters[0].Value = service;
        id = (long)_upsertService.ExecuteScalar()!;
        _serviceIds[service] = id;
        return id;
    }

    private void ApplyCounts(SqliteTransaction transaction)
    {
        _addServiceCount.Transaction = transaction;
        foreach (var (serviceId, delta) in _serviceDeltas)
        {
            _addServiceCount.Parameters[0].Value = delta;
            _addServiceCount.Parameters[1].Value = serviceId;
            _addServiceCount.ExecuteNonQuery();
        }

        _addLabelCount.Transaction = transaction;
        _removeEmptyLabel.Transaction = transaction;
        foreach (var ((serviceId, key, value), delta) in _labelDeltas)
        {
            _addLabelCount.Parameters[0].Value = serviceId;
            _addLabelCount.Parameters[1].Value = key;
            _addLabelCount.Parameters[2].Value = value;
            _addLabelCount.Parameters[3].Value = delta;
            _addLabelCount.ExecuteNonQuery();
            if (delta < 0)
            {
                _removeEmptyLabel.Parameters[0].Value = serviceId;
                _removeEmptyLabel.Parameters[1].Value = key;
                _removeEmptyLabel.Parameters[2].Value = value;
                _removeEmptyLabel.ExecuteNonQuery();
            }
        }
    }

    private void ExecuteDelete(DeleteCommand command)
    {
        if (command.CancellationToken.IsCancellationRequested)
        {
            command.Completion.TrySetCanceled(command.CancellationToken);
            return;
        }

        _serviceDeltas.Clear();
        _labelDeltas.Clear();
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            var expired = new List<(long Seq, byte[] Id, long ServiceId, long Created, byte[] Labels)>();
            _selectExpired.Transaction = transaction;
            _selectExpired.Parameters[0].Value = command.CutoffTicks;
            _selectExpired.Parameters[1].Value = _options.RetentionBatchProfiles;
            using (var rows = _selectExpired.ExecuteReader())
            {
                while (rows.Read())
                {
                    expired.Add((rows.GetInt64(0), (byte[])rows.GetValue(1), rows.GetInt64(2), rows.GetInt64(3), (byte[])rows.GetValue(4)));
                }
            }

            _deleteLabel.Transaction = transaction;
            _deleteData.Transaction = transaction;
            _deleteProfile.Transaction = transaction;
            foreach (var (seq, id, serviceId, created, labelBytes) in expired)
            {
                var labels = LabelCodec.Decode(labelBytes);
                _deleteLabel.Parameters[0].Value = serviceId;
                _deleteLabel.Parameters[3].Value = created;
                _deleteLabel.Parameters[4].Value = id;
                for (var i = 0; i < labels.Count; i++)
                {
                    _deleteLabel.Parameters[1].Value = labels[i].Key;
                    _deleteLabel.Parameters[2].Value = labels[i].Value;
                    if (_deleteLabel.ExecuteNonQuery() == 1)
                    {
                        var key = (serviceId, labels[i].Key, labels[i].Value);
                        _labelDeltas[key] = _labelDeltas.GetValueOrDefault(key) - 1;
                    }
                }

                _deleteData.Parameters[0].Value = seq;
                _deleteData.ExecuteNonQuery();
                _deleteProfile.Parameters[0].Value = seq;
                _deleteProfile.ExecuteNonQuery();
                AddDelta(_serviceDeltas, serviceId, -1);
            }

            ApplyCounts(transaction);
            transaction.Commit();
            command.Completion.TrySetResult(expired.Count);
        }
        catch (Exception exception)
        {
            Log.RetentionBatchFailed(_logger, exception);
            command.Completion.TrySetException(SqliteErrors.ToStorageException(exception));
        }
    }

    private abstract class WriterCommand(CancellationToken cancellationToken)
    {
        public CancellationToken CancellationToken { get; } = cancellationToken;
    }

    private sealed class WriteCommand(ProfileMeta meta, byte[] data, CancellationToken cancellationToken)
        : WriterCommand(cancellationToken)
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ProfileMeta Meta { get; } = meta;

        public byte[] Data { get; } = data;
    }

    private sealed class DeleteCommand(long cutoffTicks, CancellationToken cancellationToken)
        : WriterCommand(cancellationToken)
    {
        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long CutoffTicks { get; } = cutoffTicks;
    }
}
