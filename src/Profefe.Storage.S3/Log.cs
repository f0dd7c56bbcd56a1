using Microsoft.Extensions.Logging;

namespace Profefe.Storage.S3;

internal static partial class Log
{
    [LoggerMessage(EventId = S3StorageEventIds.Unavailable, Level = LogLevel.Warning, Message = "Object storage is unavailable: {Reason}")]
    public static partial void Unavailable(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = S3StorageEventIds.AbortFailed, Level = LogLevel.Warning, Message = "Aborting multipart upload of {Key} failed; the bucket's lifecycle rules must clean it up")]
    public static partial void AbortFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = S3StorageEventIds.DeleteFailed, Level = LogLevel.Warning, Message = "Object storage could not delete {Key}: {Code} {Reason}")]
    public static partial void DeleteFailed(ILogger logger, string key, string code, string reason);
}
