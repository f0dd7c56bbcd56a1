namespace Profefe.Core;

/// <summary>The event ids of this project's log messages, for filtering logs and for tests that assert them.</summary>
public static class CoreEventIds
{
    public const int ProfileCollected = 1000;
    public const int ProfileRewritten = 1001;
    public const int MergeFailed = 1002;
    public const int RetentionDeleted = 1900;
    public const int RetentionFailed = 1901;
    public const int RetentionDisabled = 1902;
    public const int RetentionStarted = 1903;
    public const int RawRetentionHeldBack = 1904;
    public const int MultiWriteFailed = 1910;
    public const int MultiRetentionFailed = 1911;
    public const int EngineLoadFailed = 1950;
    public const int EngineCutFailed = 1951;
    public const int EngineLeaseTaken = 1952;
    public const int EngineLeaseLost = 1953;
}
