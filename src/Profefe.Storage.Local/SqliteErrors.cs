using Microsoft.Data.Sqlite;
using Profefe.Core.Storage;

namespace Profefe.Storage.Local;

/// <summary>Turns SQLite failures (disk full, I/O error, locked, corrupt) into the seam's 503-shaped exception.</summary>
internal static class SqliteErrors
{
    public const string Dependency = "local";

    private const int SqliteConstraint = 19;

    public static bool IsConstraint(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteConstraint };

    public static Exception ToStorageException(Exception exception) => exception switch
    {
        StorageUnavailableException or OperationCanceledException or ObjectDisposedException => exception,
        SqliteException sqlite => new StorageUnavailableException(Dependency, $"local store: {sqlite.Message}", sqlite),
        IOException or UnauthorizedAccessException => new StorageUnavailableException(Dependency, $"local store: {exception.Message}", exception),
        _ => exception,
    };
}
