using Profefe.Core.Engine;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;

namespace Profefe.Storage.Local;

// The index as the profile engine's write log: rows are numbered in commit order by the one writer, so a row
// number the engine has passed is never handed out again while rows above it exist.
public sealed partial class LocalProfileStorage : IProfileLog
{
    public Task<IReadOnlyList<LoggedProfile>> ReadAfterAsync(long position, int max, CancellationToken cancellationToken)
    {
        var positions = new List<long>();
        var ids = new List<ProfileId>();
        var connection = RentReader();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT seq, id FROM profiles WHERE seq > $after ORDER BY seq LIMIT $max";
            command.Parameters.AddWithValue("$after", position);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                positions.Add(reader.GetInt64(0));
                ids.Add(ProfileId.FromBytes((byte[])reader.GetValue(1)));
            }
        }
        catch (Exception exception)
        {
            throw SqliteErrors.ToStorageException(exception);
        }
        finally
        {
            ReturnReader(connection);
        }

        var byId = new Dictionary<ProfileId, StoredProfile>(ids.Count);
        foreach (var stored in ReadProfiles(null, ids, cancellationToken))
        {
            byId[stored.Meta.ProfileId] = stored;
        }

        // A row retention deleted between the two reads is gone for the engine too.
        var logged = new List<LoggedProfile>(ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            if (byId.TryGetValue(ids[i], out var stored))
            {
                logged.Add(new LoggedProfile(positions[i], stored));
            }
        }

        if (logged.Count == 0 && positions.Count > 0)
        {
            // Keep the cursor moving past rows that vanished.
            logged.Add(new LoggedProfile(positions[^1], new StoredProfile(new ProfileMeta(ids[^1], ProfileType.Unknown, "", [], DateTime.UnixEpoch), ReadOnlyMemory<byte>.Empty)));
        }

        return Task.FromResult<IReadOnlyList<LoggedProfile>>(logged);
    }

    public Task<long> HeadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var connection = RentReader();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT coalesce(max(seq), 0) FROM profiles";
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
