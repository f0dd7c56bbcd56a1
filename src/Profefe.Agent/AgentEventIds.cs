namespace Profefe.Agent;

/// <summary>The event ids of this project's log messages, for filtering logs and for tests that assert them.</summary>
public static class AgentEventIds
{
    public const int AgentStarted = 7000;
    public const int AgentStopped = 7001;
    public const int DiagnosticsDisabled = 7002;
    public const int RoundStarted = 7003;
    public const int RoundFinished = 7004;
    public const int RoundFailed = 7005;
    public const int SessionStopFailed = 7006;
    public const int SessionStreamEnded = 7007;
    public const int RoundAbandoned = 7008;
    public const int PerfEventsUnavailable = 7009;
    public const int ProfileUploaded = 7010;
    public const int UploadRetrying = 7011;
    public const int UploadGaveUp = 7012;
    public const int QueueFull = 7013;
    public const int UploadRejected = 7014;
    public const int UploadsAbandoned = 7015;
    public const int EncodeFailed = 7016;
    public const int PerfEventsRead = 7017;
}
