using Microsoft.Extensions.Logging;

namespace Profefe.Storage.S3;

internal static partial class Log
{
    [LoggerMessage(EventId = S3StorageEventIds.Unavailable, Level = LogLevel.Warning, Message = "Object storage is unavailable: {Reason}")]
    public static partial void Unavailable(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = S3StorageEventIds.DeleteFailed, Level = LogLevel.Warning, Message = "Object storage could not delete {Key}: {Code} {Reason}")]
    public static partial void DeleteFailed(ILogger logger, string key, string code, string reason);
}
