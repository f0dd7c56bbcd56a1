using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Profefe.Core.Profiles;

namespace Profefe.Storage.Local;

/// <summary>
/// The one writer of the store. Callers queue commands; a dedicated thread takes every write that is waiting,
/// appends their records to the segment log with one write and one sync (group commit), indexes them in one
/// SQLite transaction, and only then completes their tasks: an acknowledged write is durable and a failed one
/// left nothing behind. The index commit itself need not sync: after a power cut the records that its lost
/// commits described are indexed again from the segments (<see cref="Recover"/>).
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
    private readonly Dictionary<(string Tenant, string Service), long> _serviceIds = [];
    private readonly Dictionary<long, long> _serviceDeltas = [];
    private readonly Dictionary<(long ServiceId, string Key, string Value), long> _labelDeltas = [];

    private readonly SqliteCommand _insertProfile;
    private readonly SqliteCommand _recoverProfile;
    private readonly SqliteCommand _upsertSegment;
    private readonly SqliteCommand _selectExpiredSegments;
    private readonly SqliteCommand _deleteSegment;
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
    private readonly ProfileSegmentLog _log;
    private readonly List<ReadOnlyMemory<byte>> _records = [];
    private readonly string _walPath;
    private long _bytesSinceCheckpoint;

    public LocalProfileWriter(SqliteConnection connection, WalCheckpointer checkpointer, ProfileSegmentLog log, string walPath, LocalStorageOptions options, ILogger logger)
    {
        _connection = connection;
        _checkpointer = checkpointer;
        _log = log;
        _walPath = walPath;
        _options = options;
        _logger = logger;
        const string InsertProfile = "INSERT INTO profiles(id, service_id, type, created_at, stored_at, labels, segment, record_offset, record_length) "
            + "VALUES($id, $service, $type, $created, $stored, $labels, $segment, $offset, $length)";
        string[] insertParameters = ["$id", "$service", "$type", "$created", "$stored", "$labels", "$segment", "$offset", "$length"];
        _insertProfile = Prepare(InsertProfile + " RETURNING seq", insertParameters);
        // Recovery may meet records whose index rows survived (or a rejected duplicate's record): skip those.
        _recoverProfile = Prepare(InsertProfile + " ON CONFLICT(id) DO NOTHING RETURNING seq", insertParameters);
        _upsertSegment = Prepare(
            "INSERT INTO segments(segment_id, indexed_end, last_stored_at) VALUES($segment, $end, $stored) ON CONFLICT(segment_id) DO UPDATE "
            + "SET indexed_end = max(indexed_end, excluded.indexed_end), last_stored_at = max(last_stored_at, excluded.last_stored_at)",
            "$segment", "$end", "$stored");
        _selectExpiredSegments = Prepare(
            "SELECT segment_id FROM segments WHERE last_stored_at < $cutoff AND segment_id <> $active", "$cutoff", "$active");
        _deleteSegment = Prepare("DELETE FROM segments WHERE segment_id = $segment", "$segment");
        _insertLabel = Prepare(
            "INSERT OR IGNORE INTO profile_labels(service_id, key, value, created_at, id, type, seq) VALUES($service, $key, $value, $created, $id, $type, $seq)",
            "$service", "$key", "$value", "$created", "$id", "$type", "$seq");
        _upsertService = Prepare(
            "INSERT INTO services(tenant, name) VALUES($tenant, $name) ON CONFLICT(tenant, name) DO UPDATE SET name = excluded.name RETURNING service_id",
            "$tenant", "$name");
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
        // Only rows written before schema version 2 have bytes here.
        _deleteData = Prepare("DELETE FROM profile_data WHERE seq = $seq", "$seq");
        _deleteProfile = Prepare("DELETE FROM profiles WHERE seq = $seq", "$seq");
        _thread = new Thread(Run) { IsBackground = true, Name = "profefe-local-writer" };
    }

    /// <summary>Starts the writer thread, after <see cref="Recover"/>.</summary>
    public void Start() => _thread.Start();

    /// <summary>Completes when the writer thread has finished every queued command.</summary>
    public Task Stopped => _stopped.Task;

    public Task WriteAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // The record is built now, on the caller's thread (many run at once; the writer is one), and holds a
        // copy of the bytes: once queued, the caller may give up and reuse its buffer.
        var labels = LabelCodec.Encode(meta.Labels);
        var record = GC.AllocateUninitializedArray<byte>(ProfileSegmentRecord.Length(meta, labels, data.Length));
        ProfileSegmentRecord.Write(record, meta, labels, data.Span);
        var command = new WriteCommand(meta, labels, record, data.Length, cancellationToken);
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
        if (_thread.ThreadState != ThreadState.Unstarted)
        {
            _thread.Join();
        }

        foreach (var command in new[]
        {
            _insertProfile, _recoverProfile, _upsertSegment, _selectExpiredSegments, _deleteSegment, _insertLabel, _upsertService, _addServiceCount, _addLabelCount,
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
                        long bytes = write.Record.Length;
                        while (batch.Count < _options.MaxBatchProfiles
                            && bytes < _options.MaxBatchBytes
                            && _commands.TryPeek(out var next)
                            && next is WriteCommand nextWrite)
                        {
                            _commands.Dequeue();
                            batch.Add(nextWrite);
                            bytes += nextWrite.Record.Length;
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

        long segment;
        long start;
        long end;
        try
        {
            (segment, start, end) = Append(batch);
        }
        catch (Exception exception)
        {
            // The log took back whatever part of the write reached the file.
            Log.WriteBatchFailed(_logger, batch.Count, exception);
            foreach (var command in batch)
            {
                Fail(command, exception);
            }

            return;
        }

        try
        {
            // On disk before the index commits: nothing is visible to readers before it is durable.
            if (_options.Synchronous == LocalStorageSynchronous.Full)
            {
                _log.Sync();
            }

            Commit(batch, segment, end);
            foreach (var command in batch)
            {
                command.Completion.TrySetResult();
            }
        }
        catch (Exception exception) when (batch.Count > 1 && SqliteErrors.IsConstraint(exception))
        {
            // One bad profile (a duplicate id) must not fail the others that happened to share its batch.
            // Their records are in the segment already; a rejected one stays there unindexed, skipped by recovery.
            var stored = 0;
            foreach (var command in batch)
            {
                try
                {
                    Commit([command], segment, end);
                    command.Completion.TrySetResult();
                    stored++;
                }
                catch (Exception single)
                {
                    Fail(command, single);
                }
            }

            if (stored == 0)
            {
                DropAppended(start);
            }
        }
        catch (Exception exception)
        {
            Log.WriteBatchFailed(_logger, batch.Count, exception);
            DropAppended(start);
            foreach (var command in batch)
            {
                Fail(command, exception);
            }
        }
    }

    /// <summary>Writes the batch's records with one write (not yet synced); returns where they are.</summary>
    private (long Segment, long Start, long End) Append(List<WriteCommand> batch)
    {
        _records.Clear();
        var total = 0L;
        foreach (var command in batch)
        {
            command.RecordOffset = total;
            _records.Add(command.Record);
            total += command.Record.Length;
        }

        var (segment, start) = _log.Append(_records, total);
        foreach (var command in batch)
        {
            command.RecordOffset += start;
        }

        return (segment, start, start + total);
    }

    /// <summary>Takes back records that will not be indexed, so a crash cannot bring them back through recovery.</summary>
    private void DropAppended(long start)
    {
        try
        {
            _log.TruncateActive(start);
        }
        catch (IOException exception)
        {
            // They stay unindexed until a restart's recovery indexes them: better than failing every later write.
            Log.AppendRollbackFailed(_logger, exception);
        }
    }

    private static void Fail(WriteCommand command, Exception exception)
    {
        var failure = SqliteErrors.IsConstraint(exception)
            ? new InvalidOperationException($"profile {command.Meta.ProfileId} is already stored", exception)
            : SqliteErrors.ToStorageException(exception);
        command.Completion.TrySetException(failure);
    }

    private void Commit(List<WriteCommand> batch, long segment, long end)
    {
        _serviceDeltas.Clear();
        _labelDeltas.Clear();
        using var transaction = _connection.BeginTransaction(deferred: false);
        try
        {
            var lastStored = long.MinValue;
            foreach (var command in batch)
            {
                Insert(transaction, _insertProfile, command.Meta, command.Labels, segment, command.RecordOffset, command.Record.Length);
                lastStored = Math.Max(lastStored, LocalProfileStorage.ToTicks(command.Meta.StoredAt));
            }

            MarkIndexed(transaction, segment, end, lastStored);
            ApplyCounts(transaction);
            transaction.Commit();
            foreach (var command in batch)
            {
                _bytesSinceCheckpoint += command.DataLength;
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

    private void MarkIndexed(SqliteTransaction transaction, long segment, long end, long lastStored)
    {
        _upsertSegment.Transaction = transaction;
        _upsertSegment.Parameters[0].Value = segment;
        _upsertSegment.Parameters[1].Value = end;
        _upsertSegment.Parameters[2].Value = lastStored;
        _upsertSegment.ExecuteNonQuery();
    }

    /// <summary>Empties the log here when the background checkpointer could not keep it small (one stat per commit).</summary>
    private void BoundWal()
    {
        try
        {
            if (new FileInfo(_walPath).Length > WalCheckpointer.MaxWalBytes)
            {
                WalCheckpointer.Restart(_connection);
            }
        }
        catch (Exception exception) when (exception is SqliteException or IOException)
        {
            // Only the log's size is at stake; the next commit tries again.
            Log.CheckpointFailed(_logger, exception);
        }
    }

    /// <summary>
    /// Indexes what the segments hold beyond what the index says it has taken in: records of commits that a power
    /// cut took back (the index commits without syncing) or of a batch cut off by a crash after its sync. A torn
    /// record at the end of a segment was never acknowledged and is cut off. Runs before <see cref="Start"/>.
    /// </summary>
    /// <returns>Profiles indexed again.</returns>
    public int Recover()
    {
        var indexedEnds = new Dictionary<long, long>();
        using (var select = _connection.CreateCommand())
        {
            select.CommandText = "SELECT segment_id, indexed_end FROM segments";
            using var rows = select.ExecuteReader();
            while (rows.Read())
            {
                indexedEnds[rows.GetInt64(0)] = rows.GetInt64(1);
            }
        }

        var newestKnown = 0L;
        foreach (var segment in indexedEnds.Keys)
        {
            newestKnown = Math.Max(newestKnown, segment);
        }

        var recovered = 0;
        var orphans = false;
        long last = 0;
        long lastEnd = 0;
        foreach (var segment in _log.List())
        {
            if (segment < newestKnown && !indexedEnds.ContainsKey(segment))
            {
                // Retention deleted its index rows and then stopped before the file: finish the job.
                _log.Delete(segment);
                orphans = true;
                continue;
            }

            var from = indexedEnds.GetValueOrDefault(segment);
            var (count, validEnd) = RecoverSegment(segment, from);
            recovered += count;
            last = segment;
            lastEnd = validEnd;
        }

        if (orphans)
        {
            _log.SyncDirectory();
        }

        _log.NumberNewSegmentsFrom(newestKnown + 1);

        if (last > 0)
        {
            _log.Resume(last, lastEnd);
        }

        return recovered;
    }

    private (int Count, long ValidEnd) RecoverSegment(long segment, long from)
    {
        var path = _log.PathOf(segment);
        var records = new List<(SegmentRecord Record, long Offset, int Length)>();
        long fileLength;
        var position = from;
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            fileLength = RandomAccess.GetLength(file);
            if (fileLength <= from)
            {
                return (0, fileLength);
            }

            // Record by record, so a segment of any size needs no more memory than its largest record.
            Span<byte> header = stackalloc byte[ProfileSegmentRecord.HeaderLength];
            while (position + ProfileSegmentRecord.HeaderLength <= fileLength
                && RandomAccess.Read(file, header, position) == header.Length
                && ProfileSegmentRecord.BodyLength(header) is var bodyLength and >= 0
                && position + ProfileSegmentRecord.HeaderLength + (long)bodyLength <= fileLength)
            {
                var whole = new byte[ProfileSegmentRecord.HeaderLength + bodyLength];
                if (RandomAccess.Read(file, whole, position) != whole.Length || ProfileSegmentRecord.Read(whole) is not { } record)
                {
                    break;
                }

                records.Add((record, position, whole.Length));
                position += whole.Length;
            }
        }

        var validEnd = position;
        if (validEnd < fileLength)
        {
            Log.SegmentTailDropped(_logger, path, fileLength - validEnd);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            file.SetLength(validEnd);
            file.Flush(flushToDisk: true);
        }

        var indexed = 0;
        for (var first = 0; first < records.Count; first += _options.MaxBatchProfiles)
        {
            _serviceDeltas.Clear();
            _labelDeltas.Clear();
            using var transaction = _connection.BeginTransaction(deferred: false);
            var lastStored = long.MinValue;
            var batchEnd = from;
            for (var i = first; i < Math.Min(records.Count, first + _options.MaxBatchProfiles); i++)
            {
                var (record, offset, length) = records[i];
                if (Insert(transaction, _recoverProfile, record.Meta, record.Labels, segment, offset, length))
                {
                    indexed++;
                }

                lastStored = Math.Max(lastStored, LocalProfileStorage.ToTicks(record.Meta.StoredAt));
                batchEnd = offset + length;
            }

            MarkIndexed(transaction, segment, batchEnd, lastStored);
            ApplyCounts(transaction);
            transaction.Commit();
        }

        if (indexed > 0)
        {
            Log.ProfilesRecovered(_logger, indexed, path);
        }

        return (indexed, validEnd);
    }

    private bool Insert(SqliteTransaction transaction, SqliteCommand insert, ProfileMeta meta, byte[] encodedLabels, long segment, long offset, int length)
    {
        var serviceId = ServiceId(transaction, meta.Tenant.Key, meta.Service);
        var id = meta.ProfileId.ToBytes();
        var created = LocalProfileStorage.ToTicks(meta.CreatedAt);
        var type = (long)meta.Type;

        insert.Transaction = transaction;
        insert.Parameters[0].Value = id;
        insert.Parameters[1].Value = serviceId;
        insert.Parameters[2].Value = type;
        insert.Parameters[3].Value = created;
        insert.Parameters[4].Value = LocalProfileStorage.ToTicks(meta.StoredAt);
        insert.Parameters[5].Value = encodedLabels;
        insert.Parameters[6].Value = segment;
        insert.Parameters[7].Value = offset;
        insert.Parameters[8].Value = length;
        if (insert.ExecuteScalar() is not long seq)
        {
            return false;
        }

        var labels = meta.Labels;
        if (labels.Count > 0)
        {
            _insertLabel.Transaction = transaction;
            _insertLabel.Parameters[0].Value = serviceId;
            _insertLabel.Parameters[3].Value = created;
            _insertLabel.Parameters[4].Value = id;
            _insertLabel.Parameters[5].Value = type;
            _insertLabel.Parameters[6].Value = seq;
            CountPerLabel(_insertLabel, serviceId, labels, 1);
        }

        AddDelta(_serviceDeltas, serviceId, 1);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="command"/> (key and value its parameters 1 and 2) for each label, counting
    /// <paramref name="delta"/> towards the label's profiles when it changed a row: a profile may carry the same
    /// key=value twice, which counts once.
    /// </summary>
    private void CountPerLabel(SqliteCommand command, long serviceId, IReadOnlyList<Label> labels, int delta)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            command.Parameters[1].Value = labels[i].Key;
            command.Parameters[2].Value = labels[i].Value;
            if (command.ExecuteNonQuery() == 1)
            {
                var key = (serviceId, labels[i].Key, labels[i].Value);
                _labelDeltas[key] = _labelDeltas.GetValueOrDefault(key) + delta;
            }
        }
    }

    private static void AddDelta(Dictionary<long, long> deltas, long key, long delta) =>
        deltas[key] = deltas.GetValueOrDefault(key) + delta;

    private long ServiceId(SqliteTransaction transaction, string tenant, string service)
    {
        if (_serviceIds.TryGetValue((tenant, service), out var id))
        {
            return id;
        }

        _upsertService.Transaction = transaction;
        _upsertService.Parameters[0].Value = tenant;
        _upsertService.Parameters[1].Value = service;
        id = (long)_upsertService.ExecuteScalar()!;
        _serviceIds[(tenant, service)] = id;
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
        List<long>? expiredSegments = null;
        try
        {
            // Segment files are deleted after this commit: it must be on disk first, or a power cut could bring
            // back index rows pointing into deleted files. Ingest commits need no sync (see the class comment).
            SetSynchronous(LocalStorageSynchronous.Full);
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
                CountPerLabel(_deleteLabel, serviceId, labels, -1);

                _deleteData.Parameters[0].Value = seq;
                _deleteData.ExecuteNonQuery();
                _deleteProfile.Parameters[0].Value = seq;
                _deleteProfile.ExecuteNonQuery();
                AddDelta(_serviceDeltas, serviceId, -1);
            }

            ApplyCounts(transaction);
            if (expired.Count < _options.RetentionBatchProfiles)
            {
                // The last batch: every profile stored before the cutoff is gone, so is every segment whose
                // newest profile is older (the one being appended to stays).
                expiredSegments = DeleteExpiredSegments(transaction, command.CutoffTicks);
            }

            transaction.Commit();
            if (expiredSegments is { Count: > 0 })
            {
                foreach (var segment in expiredSegments)
                {
                    _log.Delete(segment);
                }

                _log.SyncDirectory();
            }

            command.Completion.TrySetResult(expired.Count);
        }
        catch (Exception exception)
        {
            Log.RetentionBatchFailed(_logger, exception);
            command.Completion.TrySetException(SqliteErrors.ToStorageException(exception));
        }
        finally
        {
            TryRestoreSynchronous();
        }
    }

    private List<long> DeleteExpiredSegments(SqliteTransaction transaction, long cutoffTicks)
    {
        var segments = new List<long>();
        _selectExpiredSegments.Transaction = transaction;
        _selectExpiredSegments.Parameters[0].Value = cutoffTicks;
        _selectExpiredSegments.Parameters[1].Value = _log.ActiveSegment;
        using (var rows = _selectExpiredSegments.ExecuteReader())
        {
            while (rows.Read())
            {
                segments.Add(rows.GetInt64(0));
            }
        }

        _deleteSegment.Transaction = transaction;
        foreach (var segment in segments)
        {
            _deleteSegment.Parameters[0].Value = segment;
            _deleteSegment.ExecuteNonQuery();
        }

        return segments;
    }

    private void SetSynchronous(LocalStorageSynchronous mode)
    {
        using var pragma = _connection.CreateCommand();
        pragma.CommandText = $"PRAGMA synchronous = {(int)mode}";
        pragma.ExecuteNonQuery();
    }

    private void TryRestoreSynchronous()
    {
        try
        {
            SetSynchronous(LocalStorageSynchronous.Normal);
        }
        catch (SqliteException exception)
        {
            // Ingest then syncs each commit: slower, never less safe.
            Log.RetentionBatchFailed(_logger, exception);
        }
    }

    private abstract class WriterCommand(CancellationToken cancellationToken)
    {
        public CancellationToken CancellationToken { get; } = cancellationToken;
    }

    private sealed class WriteCommand(ProfileMeta meta, byte[] labels, byte[] record, int dataLength, CancellationToken cancellationToken)
        : WriterCommand(cancellationToken)
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ProfileMeta Meta { get; } = meta;

        /// <summary>The labels as <see cref="LabelCodec"/> encodes them, for the index row.</summary>
        public byte[] Labels { get; } = labels;

        /// <summary>The whole <see cref="ProfileSegmentRecord"/>, bytes included.</summary>
        public byte[] Record { get; } = record;

        public int DataLength { get; } = dataLength;

        /// <summary>Where the record starts in its segment, once appended.</summary>
        public long RecordOffset { get; set; }
    }

    private sealed class DeleteCommand(long cutoffTicks, CancellationToken cancellationToken)
        : WriterCommand(cancellationToken)
    {
        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long CutoffTicks { get; } = cutoffTicks;
    }
}
