namespace Profefe.Cli;

/// <summary>The event ids of this project's log messages, for filtering logs and for tests that assert them.</summary>
public static class CliEventIds
{
    public const int ScrapeStarting = 6000;
    public const int TargetAdded = 6001;
    public const int TargetRemoved = 6002;
    public const int ProfilePushed = 6003;
    public const int TakeFailed = 6004;
    public const int TakeEmpty = 6005;
    public const int PushRetrying = 6006;
    public const int PushFailed = 6007;
    public const int TargetFileFailed = 6008;
    public const int TargetFileRead = 6009;
    public const int Counters = 6010;
    public const int TakeCrashed = 6011;
    public const int PodsListed = 6100;
    public const int PodSkipped = 6101;
    public const int PodProfiledByAgent = 6102;
    public const int PodWatchExpired = 6103;
    public const int PodWatchFailed = 6104;
    public const int PodWatchEnded = 6105;
}
