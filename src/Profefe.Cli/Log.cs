using Microsoft.Extensions.Logging;

namespace Profefe.Cli;

internal static partial class Log
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Scraping {TargetCount} targets, pushing to {Collector}")]
    public static partial void ScrapeStarting(ILogger logger, int targetCount, Uri collector);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Target {Target} ({Service}) added: {Profiles}")]
    public static partial void TargetAdded(ILogger logger, Uri target, string service, string profiles);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Target {Target} ({Service}) removed")]
    public static partial void TargetRemoved(ILogger logger, Uri target, string service);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Debug, Message = "Pushed {Profile} profile of {Target} ({Bytes} bytes) as {Id}")]
    public static partial void ProfilePushed(ILogger logger, string profile, Uri target, int bytes, string id);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Taking the {Profile} profile of {Target} failed: {Error}")]
    public static partial void TakeFailed(ILogger logger, string profile, Uri target, string error);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "The {Profile} profile of {Target} has no samples; not pushed")]
    public static partial void TakeEmpty(ILogger logger, string profile, Uri target);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "Pushing the {Profile} profile of {Target} failed, retrying in {Delay}: {Error}")]
    public static partial void PushRetrying(ILogger logger, string profile, Uri target, TimeSpan delay, string error);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Error, Message = "Pushing the {Profile} profile of {Target} failed: {Error}")]
    public static partial void PushFailed(ILogger logger, string profile, Uri target, string error);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Error, Message = "Reading target file {Path} failed, keeping its previous targets: {Error}")]
    public static partial void TargetFileFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Information, Message = "Target file {Path} changed: {TargetCount} targets")]
    public static partial void TargetFileRead(ILogger logger, string path, int targetCount);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "Scrape counters: {Line}")]
    public static partial void Counters(ILogger logger, string line);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Error, Message = "Taking the {Profile} profile of {Target} failed unexpectedly")]
    public static partial void TakeCrashed(ILogger logger, string profile, Uri target, Exception exception);
}
