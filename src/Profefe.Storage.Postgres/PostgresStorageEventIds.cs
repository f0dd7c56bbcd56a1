namespace Profefe.Storage.Postgres;

/// <summary>The event ids of this project's log messages, for filtering logs and for tests that assert them.</summary>
public static class PostgresStorageEventIds
{
    public const int SchemaReady = 4000;
    public const int SchemaMigrated = 4001;
    public const int RetentionBatchDeleted = 4002;
    public const int Unavailable = 4003;
    public const int TransactionRetried = 4004;
    public const int OrphansDeleted = 4005;
}
