using Microsoft.Extensions.Logging;

namespace Profefe.Cli;

/// <summary>The log messages of Kubernetes pod discovery, 6100-6119.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = CliEventIds.PodsListed, Level = LogLevel.Information, Message = "Listed pods in {Scope}: {PodCount} annotated for profefe, {TargetCount} scraped, at resourceVersion {ResourceVersion}")]
    public static partial void PodsListed(ILogger logger, string scope, int podCount, int targetCount, string resourceVersion);

    [LoggerMessage(EventId = CliEventIds.PodSkipped, Level = LogLevel.Warning, Message = "Not scraping {Problem}")]
    public static partial void PodSkipped(ILogger logger, string problem);

    [LoggerMessage(EventId = CliEventIds.PodProfiledByAgent, Level = LogLevel.Information, Message = "Not scraping pod {Pod}: it is annotated profefe.com/runtime=dotnet, so the profefe agent inside it pushes its profiles")]
    public static partial void PodProfiledByAgent(ILogger logger, string pod);

    [LoggerMessage(EventId = CliEventIds.PodWatchExpired, Level = LogLevel.Information, Message = "The pods of {Scope} changed too much while not watched (resourceVersion {ResourceVersion}: 410 Gone); listing them again")]
    public static partial void PodWatchExpired(ILogger logger, string scope, string resourceVersion);

    [LoggerMessage(EventId = CliEventIds.PodWatchFailed, Level = LogLevel.Warning, Message = "Watching the pods of {Scope} failed, retrying in {Delay}: {Error}")]
    public static partial void PodWatchFailed(ILogger logger, string scope, TimeSpan delay, string error);

    [LoggerMessage(EventId = CliEventIds.PodWatchEnded, Level = LogLevel.Debug, Message = "The watch of the pods of {Scope} ended at resourceVersion {ResourceVersion}; watching again from there")]
    public static partial void PodWatchEnded(ILogger logger, string scope, string resourceVersion);
}
