namespace Profefe.Storage.Local;

/// <summary>The event ids of this project's log messages, for filtering logs and for tests that assert them.</summary>
public static class LocalStorageEventIds
{
    public const int StoreOpened = 2000;
    public const int WriteBatchFailed = 2001;
    public const int RetentionBatchDeleted = 2002;
    public const int StoreClosed = 2003;
    public const int CheckpointFailed = 2004;
    public const int RetentionBatchFailed = 2005;
    public const int SegmentTailDropped = 2006;
    public const int ProfilesRecovered = 2007;
    public const int AppendRollbackFailed = 2008;
}
