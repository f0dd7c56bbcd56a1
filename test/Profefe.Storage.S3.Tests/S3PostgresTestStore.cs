using Npgsql;
using Profefe.Storage.Postgres;
using Profefe.Testing.Servers;

namespace Profefe.Storage.S3.Tests;

/// <summary>
/// A fresh PostgreSQL schema and a fresh bucket for one test; the schema is dropped afterwards (the bucket goes
/// with the RGW, whose objects live in memory).
/// </summary>
internal sealed class S3PostgresTestStore : IAsyncDisposable
{
    private readonly PostgresServer _postgres;

    private S3PostgresTestStore(PostgresServer postgres, S3StorageOptions s3)
    {
        _postgres = postgres;
        S3 = s3;
    }

    public string Schema { get; } = "t_" + Guid.NewGuid().ToString("N");

    public S3StorageOptions S3 { get; }

    public static async Task<S3PostgresTestStore> CreateAsync(PostgresServer postgres, CephRgwServer rgw, Action<S3StorageOptions>? configure = null) =>
        new(postgres, await CephTestBucket.CreateAsync(rgw, configure));

    public PostgresStorageOptions Postgres(int retentionBatch = 500) => new()
    {
        ConnectionString = _postgres.ConnectionString(),
        Schema = Schema,
        RetentionBatchProfiles = retentionBatch,
        ReadBatchProfiles = 7,
    };

    public S3PostgresProfileStorage Open(int retentionBatch = 500) => new(Postgres(retentionBatch), S3);

    /// <summary>Rows in <paramref name="table"/> of this test's schema.</summary>
    public async Task<long> CountRowsAsync(string table)
    {
        await using var connection = new NpgsqlConnection(_postgres.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM \"{Schema}\".{table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(_postgres.ConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }
}
