using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Profefe.Server;

internal static partial class Log
{
    [LoggerMessage(EventId = ServerEventIds.Request, Level = LogLevel.Information, Message = "{Method} {Path} {StatusCode} {DurationMs:0.000} ms {RequestBytes} bytes in {ResponseBytes} bytes out")]
    public static partial void Request(ILogger logger, string method, string path, int statusCode, double durationMs, long requestBytes, long responseBytes);

    [LoggerMessage(EventId = ServerEventIds.RequestFailed, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = ServerEventIds.StorageUnavailable, Level = LogLevel.Warning, Message = "{Method} {Path}: storage {Dependency} unavailable")]
    public static partial void StorageUnavailable(ILogger logger, string method, string path, string dependency, Exception exception);

    [LoggerMessage(EventId = ServerEventIds.FailedAfterResponseStarted, Level = LogLevel.Warning, Message = "{Method} {Path} failed after the response started; the connection is aborted")]
    public static partial void FailedAfterResponseStarted(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = ServerEventIds.Listening, Level = LogLevel.Information, Message = "Collector listening on {Addresses}, storage {StorageType}")]
    public static partial void Listening(ILogger logger, string addresses, string storageType);

    [LoggerMessage(EventId = ServerEventIds.HealthCheckFailed, Level = LogLevel.Warning, Message = "Health check: storage unavailable")]
    public static partial void HealthCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = ServerEventIds.StatisticsFailed, Level = LogLevel.Warning, Message = "Could not read storage statistics for /debug/metrics")]
    public static partial void StatisticsFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = ServerEventIds.ConnectCallFailed, Level = LogLevel.Error, Message = "Connect call {Path} failed: {Code}: {Message}")]
    public static partial void ConnectCallFailed(ILogger logger, PathString path, string code, string message);
}
