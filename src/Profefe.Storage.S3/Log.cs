using Microsoft.Extensions.Logging;

namespace Profefe.Storage.S3;

internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning, Message = "Object storage is unavailable: {Reason}")]
    public static partial void Unavailable(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Object storage could not delete {Key}: {Code} {Reason}")]
    public static partial void DeleteFailed(ILogger logger, string key, string code, string reason);
}
