using System.Net.Sockets;
using Npgsql;
using Profefe.Core.Storage;

namespace Profefe.Storage.Postgres;

/// <summary>Sorts Npgsql failures: the server unreachable, slow or out of resources is a 503, a bug is not.</summary>
internal static class PostgresErrors
{
    public const string Dependency = "postgres";

    public const string UniqueViolation = "23505";

    /// <summary>Deadlock or serialization failure: the transaction can simply run again.</summary>
    public static bool IsRetryable(Exception exception) =>
        exception is PostgresException { SqlState: "40P01" or "40001" };

    public static Exception ToStorageException(Exception exception) => exception switch
    {
        StorageUnavailableException or OperationCanceledException or ObjectDisposedException => exception,
        PostgresException { SqlState: UniqueViolation } => exception,
        // Connection exceptions (08), resources (53), operator intervention (57: shutdown, statement timeout),
        // system errors (58), and the server going read-only during a failover (25006).
        PostgresException postgres when IsServerSide(postgres.SqlState) =>
            new StorageUnavailableException(Dependency, $"postgres: {postgres.MessageText} ({postgres.SqlState})", exception),
        PostgresException => exception,
        NpgsqlException or TimeoutException or SocketException or IOException =>
            new StorageUnavailableException(Dependency, $"postgres: {Describe(exception)}", exception),
        _ => exception,
    };

    private static bool IsServerSide(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState.StartsWith("57", StringComparison.Ordinal)
        || sqlState.StartsWith("58", StringComparison.Ordinal)
        || sqlState is "25006" or "40P01" or "40001";

    private static string Describe(Exception exception)
    {
        // Npgsql's own message is generic ("Exception while connecting"); the cause says what happened.
        var inner = exception.InnerException;
        return inner is null ? exception.Message : $"{exception.Message}: {inner.Message}";
    }
}
