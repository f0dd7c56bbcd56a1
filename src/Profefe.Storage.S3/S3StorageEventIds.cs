namespace Profefe.Storage.S3;

/// <summary>The event ids of this project's log messages, for filtering logs and for tests that assert them.</summary>
public static class S3StorageEventIds
{
    public const int Unavailable = 3000;
    public const int AbortFailed = 3001;
    public const int DeleteFailed = 3002;
    public const int KeySkipped = 3900;
    public const int IdsLookedUp = 3901;
    public const int LayoutRetentionDeleted = 3902;
    public const int LayoutUnavailable = 3903;
}
