namespace Profefe.Server;

/// <summary>The event ids of this project's log messages, for filtering logs and for tests that assert them.</summary>
public static class ServerEventIds
{
    public const int Request = 5000;
    public const int RequestFailed = 5001;
    public const int StorageUnavailable = 5002;
    public const int FailedAfterResponseStarted = 5003;
    public const int Listening = 5004;
    public const int HealthCheckFailed = 5005;
    public const int StatisticsFailed = 5006;
    public const int ConnectCallFailed = 5007;
}
