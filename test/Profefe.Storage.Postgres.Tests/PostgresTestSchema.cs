using Npgsql;
using Profefe.Testing.Servers;

namespace Profefe.Storage.Postgres.Tests;

/// <summary>A fresh schema on the shared test server for one test; dropped with everything in it afterwards.</summary>
internal sealed class PostgresTestSchema(PostgresServer server) : IAsyncDisposable
{
    public string Name { get; } = "t_" + Guid.NewGuid().ToString("N");

    public PostgresStorageOptions Options(int retentionBatch = 500) => new()
    {
        ConnectionString = server.ConnectionString(),
        Schema = Name,
        RetentionBatchProfiles = retentionBatch,
        ReadBatchProfiles = 7,
    };

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }
}
