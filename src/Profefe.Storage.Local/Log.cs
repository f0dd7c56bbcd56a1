using Microsoft.Extensions.Logging;

namespace Profefe.Storage.Local;

internal static partial class Log
{
    [LoggerMessage(EventId = LocalStorageEventIds.StoreOpened, Level = LogLevel.Information, Message = "Opened local store {Path} (schema version {SchemaVersion})")]
    public static partial void StoreOpened(ILogger logger, string path, int schemaVersion);

    [LoggerMessage(EventId = LocalStorageEventIds.WriteBatchFailed, Level = LogLevel.Error, Message = "Local store could not commit {Count} profiles")]
    public static partial void WriteBatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = LocalStorageEventIds.RetentionBatchDeleted, Level = LogLevel.Debug, Message = "Local store deleted {Count} profiles created before {Cutoff:O}")]
    public static partial void RetentionBatchDeleted(ILogger logger, int count, DateTime cutoff);

    [LoggerMessage(EventId = LocalStorageEventIds.StoreClosed, Level = LogLevel.Information, Message = "Closed local store {Path}")]
    public static partial void StoreClosed(ILogger logger, string path);

    [LoggerMessage(EventId = LocalStorageEventIds.CheckpointFailed, Level = LogLevel.Warning, Message = "Local store could not checkpoint its write-ahead log")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = LocalStorageEventIds.RetentionBatchFailed, Level = LogLevel.Error, Message = "Local store could not delete old profiles")]
    public static partial void RetentionBatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = LocalStorageEventIds.SegmentTailDropped, Level = LogLevel.Warning, Message = "Local store cut {Bytes} bytes of torn or damaged records off the end of {Path}: writes a crash interrupted, never acknowledged")]
    public static partial void SegmentTailDropped(ILogger logger, string path, long bytes);

    [LoggerMessage(EventId = LocalStorageEventIds.ProfilesRecovered, Level = LogLevel.Information, Message = "Local store indexed {Count} profiles again from {Path} after an unclean shutdown")]
    public static partial void ProfilesRecovered(ILogger logger, int count, string path);

    [LoggerMessage(EventId = LocalStorageEventIds.AppendRollbackFailed, Level = LogLevel.Error, Message = "Local store could not take back the records of a failed write; a restart indexes them")]
    public static partial void AppendRollbackFailed(ILogger logger, Exception exception);
}
