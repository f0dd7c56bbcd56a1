using Microsoft.Extensions.Logging;

namespace Profefe.Storage.S3;

// The profefe-layout store's part of the project's Log class; EventIds 3900-3949 are reserved for it.
internal static partial class Log
{
    [LoggerMessage(EventId = S3StorageEventIds.KeySkipped, Level = LogLevel.Debug, Message = "Object {Key} is not a profile in profefe's layout and is skipped: {Reason}")]
    public static partial void KeySkipped(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = S3StorageEventIds.IdsLookedUp, Level = LogLevel.Debug, Message = "Looked up {Count} profile ids by listing the bucket ({Requests} list requests, {Found} found)")]
    public static partial void IdsLookedUp(ILogger logger, int count, int requests, int found);

    [LoggerMessage(EventId = S3StorageEventIds.LayoutRetentionDeleted, Level = LogLevel.Debug, Message = "Retention deleted {Count} objects in profefe's layout stored before {Cutoff:O}")]
    public static partial void LayoutRetentionDeleted(ILogger logger, int count, DateTime cutoff);

    [LoggerMessage(EventId = S3StorageEventIds.LayoutUnavailable, Level = LogLevel.Warning, Message = "Object storage is unavailable: {Reason}")]
    public static partial void LayoutUnavailable(ILogger logger, string reason, Exception exception);
}
