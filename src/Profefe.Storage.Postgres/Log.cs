using Microsoft.Extensions.Logging;

namespace Profefe.Storage.Postgres;

internal static partial class Log
{
    [LoggerMessage(EventId = PostgresStorageEventIds.SchemaReady, Level = LogLevel.Information, Message = "PostgreSQL store ready in schema {Schema} (schema version {SchemaVersion})")]
    public static partial void SchemaReady(ILogger logger, string schema, int schemaVersion);

    [LoggerMessage(EventId = PostgresStorageEventIds.SchemaMigrated, Level = LogLevel.Information, Message = "PostgreSQL store migrated schema {Schema} from version {From} to {To}")]
    public static partial void SchemaMigrated(ILogger logger, string schema, int from, int to);

    [LoggerMessage(EventId = PostgresStorageEventIds.RetentionBatchDeleted, Level = LogLevel.Debug, Message = "PostgreSQL store deleted {Count} profiles stored before {Cutoff:O}")]
    public static partial void RetentionBatchDeleted(ILogger logger, int count, DateTime cutoff);

    [LoggerMessage(EventId = PostgresStorageEventIds.Unavailable, Level = LogLevel.Warning, Message = "PostgreSQL is unavailable: {Reason}")]
    public static partial void Unavailable(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = PostgresStorageEventIds.TransactionRetried, Level = LogLevel.Debug, Message = "PostgreSQL transaction retried after {SqlState}")]
    public static partial void TransactionRetried(ILogger logger, string sqlState);

    [LoggerMessage(EventId = PostgresStorageEventIds.OrphansDeleted, Level = LogLevel.Information, Message = "Retention deleted {Count} objects written before {Cutoff:O} that no index row pointed at")]
    public static partial void OrphansDeleted(ILogger logger, int count, DateTime cutoff);
}
