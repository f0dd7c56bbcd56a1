using Microsoft.Extensions.Logging;

namespace Profefe.Cli;

internal static partial class Log
{
    [LoggerMessage(EventId = CliEventIds.ScrapeStarting, Level = LogLevel.Information, Message = "Scraping {TargetCount} targets, pushing to {Collector}")]
    public static partial void ScrapeStarting(ILogger logger, int targetCount, Uri collector);

    [LoggerMessage(EventId = CliEventIds.TargetAdded, Level = LogLevel.Information, Message = "Target {Target} ({Service}) added: {Profiles}")]
    public static partial void TargetAdded(ILogger logger, Uri target, string service, string profiles);

    [LoggerMessage(EventId = CliEventIds.TargetRemoved, Level = LogLevel.Information, Message = "Target {Target} ({Service}) removed")]
    public static partial void TargetRemoved(ILogger logger, Uri target, string service);

    [LoggerMessage(EventId = CliEventIds.ProfilePushed, Level = LogLevel.Debug, Message = "Pushed {Profile} profile of {Target} ({Bytes} bytes) as {Id}")]
    public static partial void ProfilePushed(ILogger logger, string profile, Uri target, int bytes, string id);

    [LoggerMessage(EventId = CliEventIds.TakeFailed, Level = LogLevel.Warning, Message = "Taking the {Profile} profile of {Target} failed: {Error}")]
    public static partial void TakeFailed(ILogger logger, string profile, Uri target, string error);

    [LoggerMessage(EventId = CliEventIds.TakeEmpty, Level = LogLevel.Debug, Message = "The {Profile} profile of {Target} has no samples; not pushed")]
    public static partial void TakeEmpty(ILogger logger, string profile, Uri target);

    [LoggerMessage(EventId = CliEventIds.PushRetrying, Level = LogLevel.Warning, Message = "Pushing the {Profile} profile of {Target} failed, retrying in {Delay}: {Error}")]
    public static partial void PushRetrying(ILogger logger, string profile, Uri target, TimeSpan delay, string error);

    [LoggerMessage(EventId = CliEventIds.PushFailed, Level = LogLevel.Error, Message = "Pushing the {Profile} profile of {Target} failed: {Error}")]
    public static partial void PushFailed(ILogger logger, string profile, Uri target, string error);

    [LoggerMessage(EventId = CliEventIds.TargetFileFailed, Level = LogLevel.Error, Message = "Reading target file {Path} failed, keeping its previous targets: {Error}")]
    public static partial void TargetFileFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventId = CliEventIds.TargetFileRead, Level = LogLevel.Information, Message = "Target file {Path} changed: {TargetCount} targets")]
    public static partial void TargetFileRead(ILogger logger, string path, int targetCount);

    [LoggerMessage(EventId = CliEventIds.Counters, Level = LogLevel.Information, Message = "Scrape counters: {Line}")]
    public static partial void Counters(ILogger logger, string line);

    [LoggerMessage(EventId = CliEventIds.TakeCrashed, Level = LogLevel.Error, Message = "Taking the {Profile} profile of {Target} failed unexpectedly")]
    public static partial void TakeCrashed(ILogger logger, string profile, Uri target, Exception exception);
}
