using Npgsql;
using Profefe.Storage.Postgres;

namespace Profefe.Testing.Servers;

/// <summary>A fresh schema on a test server for one test; dropped with everything in it afterwards.</summary>
public sealed class PostgresTestSchema(PostgresServer server) : IAsyncDisposable
{
    public string Name { get; } = "t_" + Guid.NewGuid().ToString("N");

    public string ConnectionString => server.ConnectionString();

    /// <summary>Options for this schema; small read batches by default so that reads cross batch boundaries.</summary>
    public PostgresStorageOptions Options(int retentionBatch = 500, int readBatch = 7) => new()
    {
        ConnectionString = server.ConnectionString(),
        Schema = Name,
        RetentionBatchProfiles = retentionBatch,
        ReadBatchProfiles = readBatch,
    };

    /// <summary>The configuration keys that point a collector at this schema.</summary>
    public Dictionary<string, string?> Settings(string storageType = "postgres") => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Storage:Type"] = storageType,
        ["Storage:Postgres:ConnectionString"] = server.ConnectionString(),
        ["Storage:Postgres:Schema"] = Name,
    };

    /// <summary>Rows in <paramref name="table"/> of this schema.</summary>
    public async Task<long> CountRowsAsync(string table)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM \"{Name}\".{table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Every value of <paramref name="column"/> in <paramref name="table"/> of this schema.</summary>
    public async Task<List<T>> ReadColumnAsync<T>(string table, string column)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT {column} FROM \"{Name}\".{table}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }
}
