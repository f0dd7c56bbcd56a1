using Microsoft.Extensions.Logging;

namespace Profefe.Server;

// The web UI's part of the Server's Log class; EventIds 5900-5919 are reserved for it.
internal static partial class Log
{
    [LoggerMessage(EventId = 5900, Level = LogLevel.Debug, Message = "UI views warmed up in {DurationMs:0} ms")]
    public static partial void UiWarmedUp(ILogger logger, double durationMs);

    [LoggerMessage(EventId = 5901, Level = LogLevel.Warning, Message = "UI warm-up failed; the first page opened will be slower")]
    public static partial void UiWarmupFailed(ILogger logger, Exception exception);
}
