using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Objects;
using Profefe.Core.Storage.Segments;
using Profefe.Core.Tenancy;

namespace Profefe.Storage.Postgres;

/// <summary>
/// Batched ingest on object storage: writes gather per tenant and shard (<see cref="GroupCommit{TShard, TWrite}"/>),
/// each batch is PUT as one segment object, then its index rows and its segments row are committed in one
/// transaction, and only then is any write of it acknowledged.
/// </summary>
public sealed partial class PostgresProfileStorage
{
    // Fetching a whole segment beats ranges once this share of it is wanted; ranges closer than MaxRangeGap are
    // fetched as one (one request costs more than the bytes between two neighbouring profiles).
    private const double WholeSegmentShare = 0.5;
    private const long MaxRangeGap = 64 * 1024;

    private SegmentId? _sweptThrough;

    /// <summary>Where batched writes put their segments, when they are batched.</summary>
    public ISegmentObjectStore? Segments => _segments;

    private Task WriteToSegmentAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var shard = (int)((uint)StringComparer.Ordinal.GetHashCode(meta.Service) % (uint)_groupCommitOptions!.Shards);
        return _groupCommit!.WriteAsync(new SegmentShard(meta.Tenant, shard), new PendingWrite(meta, data), cancellationToken);
    }

    private async Task FlushSegmentAsync(SegmentShard shard, IReadOnlyList<PendingWrite> writes, CancellationToken cancellationToken)
    {
        var profiles = new (ProfileId, ReadOnlyMemory<byte>)[writes.Count];
        // The segment's time is its last arrival: once retention's cutoff passes it, every profile of it is gone.
        var lastStored = long.MinValue;
        for (var i = 0; i < writes.Count; i++)
        {
            profiles[i] = (writes[i].Meta.ProfileId, writes[i].Data);
            lastStored = Math.Max(lastStored, ToTicks(writes[i].Meta.StoredAt));
        }

        var (segment, offsets) = SegmentBuilder.Build(profiles);
        var id = SegmentId.NewId(_timeProvider.GetUtcNow().UtcDateTime);
        var started = Stopwatch.GetTimestamp();
        // The object first: the index may only ever point at durable bytes. A failure after this leaves an object
        // no segments row names, which the orphan sweep deletes once it is older than the grace interval.
        await _segments!.PutAsync(id, segment, cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await CopyIndexRowsAsync(connection, id, writes, offsets, cancellationToken).ConfigureAwait(false);
                await using (var batch = new NpgsqlBatch(connection, transaction))
                {
                    AddCounterUpdates(batch, writes);
                    batch.BatchCommands.Add(Command(
                        "INSERT INTO segments(id, tenant, created_at, size, profile_count) VALUES ($1, $2, $3, $4, $5)",
                        id.Value.ToBytes(), shard.Tenant.Key, lastStored, (long)segment.Length, writes.Count));
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                // Past half the grace interval the sweep may soon take the object for an orphan: committing now
                // could acknowledge profiles whose bytes are about to be deleted, so give up instead. (A zero
                // grace, for tests, sweeps only what they left idle.)
                if (_segments.OrphanGrace > TimeSpan.Zero && Stopwatch.GetElapsedTime(started) > _segments.OrphanGrace / 2)
                {
                    throw new StorageUnavailableException("postgres", $"PostgreSQL took longer than half of Storage:S3:OrphanMinAge ({_segments.OrphanGrace}) to index segment {id}", null);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                // Only once indexed: nothing reads a segment before its rows exist, and an object whose commit failed
                // is an orphan no read asks for.
                _segmentCache?.Add((id, segment.LongLength), segment);
                return;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrors.UniqueViolation && exception.TableName == "profiles")
            {
                throw new InvalidOperationException($"a profile of segment {id} is already stored", exception);
            }
            catch (Exception exception) when (attempt < MaxAttempts && PostgresErrors.IsRetryable(exception))
            {
                Log.TransactionRetried(_logger, ((PostgresException)exception).SqlState);
            }
            catch (StorageUnavailableException)
            {
                throw;
            }
            catch (Exception exception)
            {
                throw Unavailable(exception);
            }
        }
    }

    /// <summary>The batch's profiles and their labels by binary COPY, in the connection's open transaction.</summary>
    private static async Task CopyIndexRowsAsync(NpgsqlConnection connection, SegmentId segment, IReadOnlyList<PendingWrite> writes, long[] offsets, CancellationToken cancellationToken)
    {
        var segmentBytes = segment.Value.ToBytes();
        var ids = new byte[writes.Count][];
        await using (var profiles = await connection.BeginBinaryImportAsync(
            "COPY profiles(id, service, type, created_at, stored_at, label_keys, label_values, data_size, tenant, segment_id, segment_offset) FROM STDIN (FORMAT BINARY)",
            cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < writes.Count; i++)
            {
                var meta = writes[i].Meta;
                var (keys, values) = SplitLabels(meta.Labels);
                ids[i] = meta.ProfileId.ToBytes();
                await profiles.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(ids[i], NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(meta.Service, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync((short)meta.Type, NpgsqlDbType.Smallint, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(ToTicks(meta.CreatedAt), NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(ToTicks(meta.StoredAt), NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(keys, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(values, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync((long)writes[i].Data.Length, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(meta.Tenant.Key, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(segmentBytes, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
                await profiles.WriteAsync(offsets[i], NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            }

            await profiles.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var labels = await connection.BeginBinaryImportAsync(
            "COPY profile_labels(tenant, service, key, value, created_at, id, type) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < writes.Count; i++)
        {
            var meta = writes[i].Meta;
            var (keys, values) = DistinctLabels(meta.Labels);
            for (var j = 0; j < keys.Length; j++)
            {
                await labels.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await labels.WriteAsync(meta.Tenant.Key, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await labels.WriteAsync(meta.Service, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await labels.WriteAsync(keys[j], NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await labels.WriteAsync(values[j], NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await labels.WriteAsync(ToTicks(meta.CreatedAt), NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await labels.WriteAsync(ids[i], NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
                await labels.WriteAsync((short)meta.Type, NpgsqlDbType.Smallint, cancellationToken).ConfigureAwait(false);
            }
        }

        await labels.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The services and label_values counters of the whole batch, one upsert each from arrays sorted ordinally:
    /// every writer locks counter rows in the same order, so concurrent batches cannot deadlock.
    /// </summary>
    private static void AddCounterUpdates(NpgsqlBatch batch, IReadOnlyList<PendingWrite> writes)
    {
        var services = new SortedDictionary<(string Tenant, string Service, string Key, string Value), long>(LabelKeyComparer.Instance);
        var labels = new SortedDictionary<(string Tenant, string Service, string Key, string Value), long>(LabelKeyComparer.Instance);
        foreach (var write in writes)
        {
            var meta = write.Meta;
            var service = (meta.Tenant.Key, meta.Service, "", "");
            services[service] = services.GetValueOrDefault(service) + 1;
            var (keys, values) = DistinctLabels(meta.Labels);
            for (var i = 0; i < keys.Length; i++)
            {
                var label = (meta.Tenant.Key, meta.Service, keys[i], values[i]);
                labels[label] = labels.GetValueOrDefault(label) + 1;
            }
        }

        batch.BatchCommands.Add(Command(
            "INSERT INTO services(tenant, name, profile_count) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) "
            + "ON CONFLICT (tenant, name) DO UPDATE SET profile_count = services.profile_count + excluded.profile_count",
            services.Keys.Select(static k => k.Tenant).ToArray(), services.Keys.Select(static k => k.Service).ToArray(), services.Values.ToArray()));
        if (labels.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                "INSERT INTO label_values(tenant, service, key, value, profile_count) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) "
                + "ON CONFLICT (tenant, service, key, value) DO UPDATE SET profile_count = label_values.profile_count + excluded.profile_count",
                labels.Keys.Select(static k => k.Tenant).ToArray(), labels.Keys.Select(static k => k.Service).ToArray(),
                labels.Keys.Select(static k => k.Key).ToArray(), labels.Keys.Select(static k => k.Value).ToArray(), labels.Values.ToArray()));
        }
    }

    /// <summary>
    /// The bytes of <paramref name="rows"/> from their segments: per segment, from memory when this collector wrote it
    /// recently (<see cref="GroupCommitOptions.CacheBytes"/>), else the whole object when most of it is wanted, otherwise
    /// the wanted ranges (neighbours merged), all fetched in parallel within the store's bound.
    /// </summary>
    private async Task ReadSegmentsAsync(List<SegmentRow> rows, Dictionary<ProfileId, StoredProfile> found, CancellationToken cancellationToken)
    {
        rows.Sort(static (a, b) =>
        {
            var segment = a.Segment.Value.CompareTo(b.Segment.Value);
            return segment != 0 ? segment : a.Offset.CompareTo(b.Offset);
        });

        var ranges = new List<ObjectRange<SegmentId>>();
        // The rows each range holds: rows of segments served from the cache fall between ranges.
        var rowsOf = new List<(int First, int End)>();
        for (var start = 0; start < rows.Count;)
        {
            var end = start;
            long wanted = 0;
            while (end < rows.Count && rows[end].Segment == rows[start].Segment)
            {
                wanted += rows[end].Length;
                end++;
            }

            if (_segmentCache is not null && _segmentCache.TryGet((rows[start].Segment, rows[start].SegmentSize), out var cached))
            {
                for (var i = start; i < end; i++)
                {
                    // The index's offset and length lie within the segment's recorded size, which the cached copy has.
                    found[rows[i].Meta.ProfileId] = new StoredProfile(rows[i].Meta, cached.AsMemory(checked((int)rows[i].Offset), rows[i].Length));
                }
            }
            else if (wanted >= rows[start].SegmentSize * WholeSegmentShare && rows[start].SegmentSize <= Array.MaxLength)
            {
                ranges.Add(new ObjectRange<SegmentId>(rows[start].Segment, 0, (int)rows[start].SegmentSize));
                rowsOf.Add((start, end));
            }
            else
            {
                for (var i = start; i < end;)
                {
                    var first = i;
                    var from = rows[i].Offset;
                    var to = from + rows[i].Length;
                    for (i++; i < end && rows[i].Offset - to <= MaxRangeGap && rows[i].Offset + rows[i].Length - from <= int.MaxValue; i++)
                    {
                        to = Math.Max(to, rows[i].Offset + rows[i].Length);
                    }

                    ranges.Add(new ObjectRange<SegmentId>(rows[start].Segment, from, (int)(to - from)));
                    rowsOf.Add((first, i));
                }
            }

            start = end;
        }

        if (ranges.Count == 0)
        {
            return;
        }

        var data = await _segments!.GetRangesAsync(ranges, cancellationToken).ConfigureAwait(false);
        for (var r = 0; r < ranges.Count; r++)
        {
            // No object: retention deleted the segment between the index read and this one; its profiles are gone.
            if (data[r] is not { } bytes)
            {
                continue;
            }

            for (var i = rowsOf[r].First; i < rowsOf[r].End; i++)
            {
                var at = (int)(rows[i].Offset - ranges[r].Offset);
                found[rows[i].Meta.ProfileId] = new StoredProfile(rows[i].Meta, bytes.AsMemory(at, rows[i].Length));
            }
        }
    }

    /// <summary>
    /// Deletes the segments retention emptied (rows and objects), then the segment objects older than the grace
    /// interval that no segments row names (a crash or failure between the PUT and the index commit).
    /// </summary>
    private async Task DeleteEmptyAndOrphanSegmentsAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        var empty = new List<SegmentId>();
        try
        {
            // created_at is the segment's last arrival: before the cutoff, retention deleted every profile of it;
            // segments straddling the cutoff are found by a later pass.
            await using var command = Command(_dataSource,
                "DELETE FROM segments s WHERE s.created_at < $1 AND NOT EXISTS (SELECT 1 FROM profiles p WHERE p.segment_id = s.id) RETURNING s.id",
                ToTicks(cutoff));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                empty.Add(new SegmentId(ProfileId.FromBytes(reader.GetFieldValue<byte[]>(0))));
            }
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }

        if (empty.Count > 0)
        {
            // After the rows: a failure here leaves orphans, which the sweep below (or the next) deletes.
            await _segments!.DeleteAsync(empty, cancellationToken).ConfigureAwait(false);
        }

        var before = _timeProvider.GetUtcNow().UtcDateTime - _segments!.OrphanGrace;
        var settled = before - _segments.OrphanGrace;
        SegmentId? last = null;
        await foreach (var candidates in _segments.ListAsync(_sweptThrough, before, cancellationToken).ConfigureAwait(false))
        {
            var wanted = new byte[candidates.Count][];
            for (var i = 0; i < candidates.Count; i++)
            {
                wanted[i] = candidates[i].Value.ToBytes();
            }

            var indexed = await SelectIndexedAsync(
                "SELECT id FROM segments WHERE id = ANY($1)", wanted, static reader => new SegmentId(ProfileId.FromBytes(reader.GetFieldValue<byte[]>(0))), cancellationToken)
                .ConfigureAwait(false);

            var orphans = candidates.Where(c => !indexed.Contains(c)).ToList();
            if (orphans.Count > 0)
            {
                await _segments.DeleteAsync(orphans, cancellationToken).ConfigureAwait(false);
                Log.OrphansDeleted(_logger, orphans.Count, before);
            }

            foreach (var candidate in candidates)
            {
                if (candidate.Timestamp < settled)
                {
                    last = candidate;
                }
            }
        }

        // The next pass starts after what is a further grace interval older than this listing's bound: a PUT slowed
        // past the grace (a collector killed or starved mid-PUT) lands behind the bound, and is still listed then.
        // A restarted collector lists from the start.
        if (last is not null)
        {
            _sweptThrough = last;
        }
    }

    private readonly record struct SegmentShard(TenantId Tenant, int Shard);

    private sealed record PendingWrite(ProfileMeta Meta, ReadOnlyMemory<byte> Data);

    private sealed record SegmentRow(ProfileMeta Meta, SegmentId Segment, long Offset, int Length, long SegmentSize);
}
