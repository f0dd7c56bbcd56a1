using Microsoft.Extensions.Logging;

namespace Profefe.Agent;

internal static partial class Log
{
    [LoggerMessage(EventId = AgentEventIds.AgentStarted, Level = LogLevel.Information, Message = "Profefe agent started: profiling {Target} for {Service}, pushing to {Collector} ({Profiles} for {Duration} every {Tick})")]
    public static partial void AgentStarted(ILogger logger, string target, string service, Uri collector, ProfileKinds profiles, TimeSpan duration, TimeSpan tick);

    [LoggerMessage(EventId = AgentEventIds.AgentStopped, Level = LogLevel.Information, Message = "Profefe agent stopped")]
    public static partial void AgentStopped(ILogger logger);

    [LoggerMessage(EventId = AgentEventIds.DiagnosticsDisabled, Level = LogLevel.Warning, Message = "Profefe agent is idle: DOTNET_EnableDiagnostics=0 disables the diagnostics (EventPipe) the agent profiles with")]
    public static partial void DiagnosticsDisabled(ILogger logger);

    [LoggerMessage(EventId = AgentEventIds.RoundStarted, Level = LogLevel.Debug, Message = "Profiling round started")]
    public static partial void RoundStarted(ILogger logger);

    [LoggerMessage(EventId = AgentEventIds.RoundFinished, Level = LogLevel.Debug, Message = "Profiling round finished after {Duration}: {ThreadSamples} thread samples, {AllocationEvents} allocation events ({AllocationEventsSkipped} thinned out), {Contentions} contentions, {Profiles} profiles")]
    public static partial void RoundFinished(ILogger logger, TimeSpan duration, long threadSamples, long allocationEvents, long allocationEventsSkipped, long contentions, int profiles);

    [LoggerMessage(EventId = AgentEventIds.RoundFailed, Level = LogLevel.Warning, Message = "Profiling round failed: {Reason}")]
    public static partial void RoundFailed(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(EventId = AgentEventIds.SessionStopFailed, Level = LogLevel.Debug, Message = "Stopping the EventPipe session failed: {Reason}")]
    public static partial void SessionStopFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = AgentEventIds.SessionStreamEnded, Level = LogLevel.Debug, Message = "The EventPipe stream ended early: {Reason}")]
    public static partial void SessionStreamEnded(ILogger logger, string reason);

    [LoggerMessage(EventId = AgentEventIds.RoundAbandoned, Level = LogLevel.Warning, Message = "The profiling round did not end within {Timeout} of stopping; leaving it behind")]
    public static partial void RoundAbandoned(ILogger logger, TimeSpan timeout);

    [LoggerMessage(EventId = AgentEventIds.PerfEventsUnavailable, Level = LogLevel.Information, Message = "Perf events are not available ({Reason}): the cpu profile comes from EventPipe's sample profiler, which costs the application more")]
    public static partial void PerfEventsUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = AgentEventIds.PerfEventsRead, Level = LogLevel.Debug, Message = "Perf events: {Samples} cpu samples from {Threads} threads, {Lost} lost to full rings")]
    public static partial void PerfEventsRead(ILogger logger, long samples, int threads, long lost);

    [LoggerMessage(EventId = AgentEventIds.ProfileUploaded, Level = LogLevel.Debug, Message = "Pushed {Type} profile {ProfileId} ({Bytes} bytes)")]
    public static partial void ProfileUploaded(ILogger logger, string type, string profileId, int bytes);

    [LoggerMessage(EventId = AgentEventIds.UploadRetrying, Level = LogLevel.Warning, Message = "Pushing a {Type} profile failed (attempt {Attempt} of {MaxAttempts}), retrying in {Delay}: {Reason}")]
    public static partial void UploadRetrying(ILogger logger, string type, int attempt, int maxAttempts, TimeSpan delay, string reason);

    [LoggerMessage(EventId = AgentEventIds.UploadGaveUp, Level = LogLevel.Warning, Message = "Dropped a {Type} profile after {Attempts} failed attempts: {Reason}")]
    public static partial void UploadGaveUp(ILogger logger, string type, int attempts, string reason);

    [LoggerMessage(EventId = AgentEventIds.QueueFull, Level = LogLevel.Warning, Message = "Upload queue full: dropped the oldest profile ({Type})")]
    public static partial void QueueFull(ILogger logger, string type);

    [LoggerMessage(EventId = AgentEventIds.UploadRejected, Level = LogLevel.Warning, Message = "Dropped a {Type} profile the collector rejected: {Reason}")]
    public static partial void UploadRejected(ILogger logger, string type, string reason);

    [LoggerMessage(EventId = AgentEventIds.UploadsAbandoned, Level = LogLevel.Information, Message = "Stopped with {Count} profiles not uploaded")]
    public static partial void UploadsAbandoned(ILogger logger, int count);

    [LoggerMessage(EventId = AgentEventIds.EncodeFailed, Level = LogLevel.Warning, Message = "Encoding a {Type} profile failed")]
    public static partial void EncodeFailed(ILogger logger, string type, Exception exception);
}
