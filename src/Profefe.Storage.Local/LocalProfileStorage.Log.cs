using Microsoft.Win32.SafeHandles;
using Profefe.Core.Engine;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Storage.Local;

// The index as the profile engine's write log: rows are numbered in commit order by the one writer, so a row
// number the engine has passed is never handed out again while rows above it exist.
public sealed partial class LocalProfileStorage : IProfileLog
{
    // One query for the whole batch, not one per profile: the cutter reads thousands at a time, and a burst's
    // profiles share a few label sets and segment handles.
    public Task<IReadOnlyList<LoggedProfile>> ReadAfterAsync(long position, int max, CancellationToken cancellationToken)
    {
        var logged = new List<LoggedProfile>();
        var handles = new Dictionary<long, SafeFileHandle>();
        var labels = new Dictionary<byte[], IReadOnlyList<Label>>(LabelBlobComparer.Instance);
        var lastPosition = 0L;
        ProfileId lastId = default;
        var connection = RentReader();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT p.seq, p.id, " + StoredColumns + " WHERE p.seq > $after ORDER BY p.seq LIMIT $max";
            command.Parameters.AddWithValue("$after", position);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                lastPosition = reader.GetInt64(0);
                lastId = ProfileId.FromBytes((byte[])reader.GetValue(1));

                // A profile whose segment retention deleted meanwhile is gone for the engine too.
                if (ReadStored(reader, 2, lastId, handles, labels) is { } stored)
                {
                    logged.Add(new LoggedProfile(lastPosition, stored));
                }
            }
        }
        catch (InvalidDataException exception)
        {
            throw new StorageUnavailableException(SqliteErrors.Dependency, $"local store: {exception.Message}", exception);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw SqliteErrors.ToStorageException(exception);
        }
        finally
        {
            foreach (var handle in handles.Values)
            {
                handle.Dispose();
            }

            ReturnReader(connection);
        }

        if (logged.Count == 0 && lastPosition > 0)
        {
            // Keep the cursor moving past rows that vanished.
            logged.Add(new LoggedProfile(lastPosition, new StoredProfile(new ProfileMeta(lastId, ProfileType.Unknown, "", [], DateTime.UnixEpoch), ReadOnlyMemory<byte>.Empty)));
        }

        return Task.FromResult<IReadOnlyList<LoggedProfile>>(logged);
    }

    public Task<IReadOnlyList<ProfileMeta>> ListAfterAsync(long position, TenantId tenant, string service, int max, CancellationToken cancellationToken)
    {
        var metas = new List<ProfileMeta>();
        var labels = new Dictionary<byte[], IReadOnlyList<Label>>(LabelBlobComparer.Instance);
        var connection = RentReader();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT p.id, p.type, p.created_at, p.labels FROM profiles p JOIN services s ON s.service_id = p.service_id
                WHERE p.seq > $after AND s.tenant = $tenant AND s.name = $service ORDER BY p.seq LIMIT $max
                """;
            command.Parameters.AddWithValue("$after", position);
            command.Parameters.AddWithValue("$tenant", tenant.Key);
            command.Parameters.AddWithValue("$service", service);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var blob = (byte[])reader.GetValue(3);
                if (!labels.TryGetValue(blob, out var decoded))
                {
                    decoded = LabelCodec.Decode(blob);
                    labels[blob] = decoded;
                }

                metas.Add(new ProfileMeta(ProfileId.FromBytes((byte[])reader.GetValue(0)), (ProfileType)reader.GetInt64(1), service, decoded, FromTicks(reader.GetInt64(2)), tenant));
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw SqliteErrors.ToStorageException(exception);
        }
        finally
        {
            ReturnReader(connection);
        }

        return Task.FromResult<IReadOnlyList<ProfileMeta>>(metas);
    }

    public Task<long> HeadAsync(CancellationToken cancellationToken) =>
        ScalarAsync("SELECT coalesce(max(seq), 0) FROM profiles", 0, 0, cancellationToken);

    public Task<long> CountAfterAsync(long position, long limit, CancellationToken cancellationToken) =>
        ScalarAsync("SELECT count(*) FROM (SELECT 1 FROM profiles WHERE seq > $after LIMIT $limit)", position, limit, cancellationToken);

    private Task<long> ScalarAsync(string sql, long after, long limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var connection = RentReader();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$after", after);
            command.Parameters.AddWithValue("$limit", limit);
            return Task.FromResult(Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
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
}
