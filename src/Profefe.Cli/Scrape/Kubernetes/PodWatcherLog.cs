using Microsoft.Extensions.Logging;

namespace Profefe.Cli;

/// <summary>The log messages of Kubernetes pod discovery, 6100-6119.</summary>
internal static partial class Log
{
    public const int PodsListedId = 6100;
    public const int PodSkippedId = 6101;
    public const int PodProfiledByAgentId = 6102;
    public const int PodWatchExpiredId = 6103;
    public const int PodWatchFailedId = 6104;
    public const int PodWatchEndedId = 6105;

    [LoggerMessage(EventId = PodsListedId, Level = LogLevel.Information, Message = "Listed pods in {Scope}: {PodCount} annotated for profefe, {TargetCount} scraped, at resourceVersion {ResourceVersion}")]
    public static partial void PodsListed(ILogger logger, string scope, int podCount, int targetCount, string resourceVersion);

    [LoggerMessage(EventId = PodSkippedId, Level = LogLevel.Warning, Message = "Not scraping {Problem}")]
    public static partial void PodSkipped(ILogger logger, string problem);

    [LoggerMessage(EventId = PodProfiledByAgentId, Level = LogLevel.Information, Message = "Not scraping pod {Pod}: it is annotated profefe.com/runtime=dotnet, so the profefe agent inside it pushes its profiles")]
    public static partial void PodProfiledByAgent(ILogger logger, string pod);

    [LoggerMessage(EventId = PodWatchExpiredId, Level = LogLevel.Information, Message = "The pods of {Scope} changed too much while not watched (resourceVersion {ResourceVersion}: 410 Gone); listing them again")]
    public static partial void PodWatchExpired(ILogger logger, string scope, string resourceVersion);

    [LoggerMessage(EventId = PodWatchFailedId, Level = LogLevel.Warning, Message = "Watching the pods of {Scope} failed, retrying in {Delay}: {Error}")]
    public static partial void PodWatchFailed(ILogger logger, string scope, TimeSpan delay, string error);

    [LoggerMessage(EventId = PodWatchEndedId, Level = LogLevel.Debug, Message = "The watch of the pods of {Scope} ended at resourceVersion {ResourceVersion}; watching again from there")]
    public static partial void PodWatchEnded(ILogger logger, string scope, string resourceVersion);
}
