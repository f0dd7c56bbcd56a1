using Microsoft.Extensions.Logging;

namespace Profefe.Core;

// Retention's part of Core's Log class; EventIds 1900-1909 are reserved for it.
internal static partial class Log
{
    [LoggerMessage(EventId = CoreEventIds.RetentionDeleted, Level = LogLevel.Information, Message = "Retention deleted {Count} profiles created before {Cutoff:O}")]
    public static partial void RetentionDeleted(ILogger logger, int count, DateTime cutoff);

    [LoggerMessage(EventId = CoreEventIds.RetentionFailed, Level = LogLevel.Error, Message = "Retention pass failed; the next pass retries")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = CoreEventIds.RetentionDisabled, Level = LogLevel.Information, Message = "Retention is off: profiles are kept forever (the pass still runs to clean up what crashes left)")]
    public static partial void RetentionDisabled(ILogger logger);

    [LoggerMessage(EventId = CoreEventIds.RetentionStarted, Level = LogLevel.Information, Message = "Retention keeps profiles for {Period}, checking every {Interval}")]
    public static partial void RetentionStarted(ILogger logger, TimeSpan period, TimeSpan interval);

    [LoggerMessage(EventId = CoreEventIds.RawRetentionHeldBack, Level = LogLevel.Warning,
        Message = "The profile engine has not taken in every stored profile; this pass keeps raw profiles for Retention:Period ({Period}; zero: forever), not Retention:RawPeriod ({RawPeriod})")]
    public static partial void RawRetentionHeldBack(ILogger logger, TimeSpan rawPeriod, TimeSpan period);
}
