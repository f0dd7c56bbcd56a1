using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Profefe.Agent.Collection;
using Profefe.Agent.Collection.PerfEvents;
using Profefe.Agent.Upload;
using Profefe.Client;
using Profefe.Pprof;

namespace Profefe.Agent;

/// <summary>
/// Continuously profiles a .NET process (the current one, or another over its diagnostics socket) with EventPipe, and
/// Linux perf events for cpu where allowed, and pushes the profiles to a profefe collector.
/// </summary>
/// <remarks>
/// Every <see cref="ProfefeAgentOptions.Tick"/> (plus a random <see cref="ProfefeAgentOptions.Jitter"/>) the agent
/// profiles for <see cref="ProfefeAgentOptions.CpuDuration"/> and queues one profile per kind for upload. It works on
/// its own threads, never throws into its host after <see cref="Start"/> returns, and keeps its memory bounded: failed
/// uploads are retried with exponential backoff and, when the queue is full, the oldest profile is dropped.
/// </remarks>
public sealed class ProfefeAgent : IAsyncDisposable
{
    private static readonly TimeSpan RoundStopTimeout = TimeSpan.FromSeconds(15);

    private readonly AgentSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly UploadQueue _queue;
    private readonly HttpClient? _ownedHttp;
    private readonly RoundRunner _runRound;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _rounds;
    private readonly Task _uploads;
    private readonly PerfEventsSwitch? _perfEvents;
    private int _stopState;
    private long _completedRounds;
    private Task? _stopTask;

    private ProfefeAgent(ProfefeAgentOptions options, ILoggerFactory loggerFactory, ProfileUploader? uploader, TimeProvider time, RoundRunner? runRound, HttpClient? httpClient, PerfEventOpener? perfEventOpener)
    {
        _settings = AgentSettings.From(options);
        _perfEvents = options.PerfEvents ? new PerfEventsSwitch(perfEventOpener) : null;
        _runRound = runRound ?? EventPipeRound.Run;
        _logger = loggerFactory.CreateLogger("Profefe.Agent");
        _time = time;
        if (uploader is null)
        {
            var address = options.CollectorAddress!.AbsoluteUri;
            // A host's agent gets its client from IHttpClientFactory; a standalone agent (Start, no container)
            // has no factory and owns the one client it makes for its whole life.
            var http = httpClient ?? (_ownedHttp = new HttpClient());
            http.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
            http.Timeout = options.UploadTimeout;
            var client = new ProfefeClient(http);
            var service = _settings.Service;
            uploader = async (profile, ct) =>
                (await client.PushProfileAsync(service, profile.Type, profile.Labels, profile.Data, profile.CreatedAt, ct).ConfigureAwait(false)).Id;
        }

        _queue = new UploadQueue(options.QueueSize, uploader, options.InitialRetryDelay, options.MaxRetryDelay, options.MaxUploadAttempts, time, _logger);
        Log.AgentStarted(
            _logger,
            _settings.InProcess ? "this process" : "process " + _settings.ProcessId,
            _settings.Service,
            options.CollectorAddress!,
            _settings.Kinds,
            _settings.Duration,
            _settings.Tick);
        _uploads = Task.Run(() => _queue.RunAsync(_stopping.Token));
        _rounds = Task.Run(RunRoundsAsync);
    }

    /// <summary>True until <see cref="Stop"/>, <see cref="StopAsync"/> or <see cref="DisposeAsync"/> is called.</summary>
    public bool IsRunning => Volatile.Read(ref _stopState) == 0;

    /// <summary>Profiles waiting for upload (bounded by <see cref="ProfefeAgentOptions.QueueSize"/>).</summary>
    public int QueuedProfiles => _queue.Count;

    /// <summary>Profiles dropped because the upload queue was full.</summary>
    public long DroppedProfiles => _queue.Dropped;

    /// <summary>Rounds that produced profiles since the agent started.</summary>
    public long CompletedRounds => Interlocked.Read(ref _completedRounds);

    /// <summary>Starts profiling in the background and returns at once.</summary>
    /// <param name="options">Where to push and what to collect; copied, later changes have no effect.</param>
    /// <param name="loggerFactory">Where the agent logs (category <c>Profefe.Agent</c>); null logs nowhere.</param>
    /// <returns>The running agent; stop it with <see cref="Stop"/> or dispose it.</returns>
    /// <exception cref="ArgumentException">The options are invalid (the message names the setting).</exception>
    public static ProfefeAgent Start(ProfefeAgentOptions options, ILoggerFactory? loggerFactory = null) =>
        StartWith(options, loggerFactory, uploader: null, time: null);

    internal static ProfefeAgent StartWith(
        ProfefeAgentOptions options, ILoggerFactory? loggerFactory, ProfileUploader? uploader, TimeProvider? time, RoundRunner? runRound = null, HttpClient? httpClient = null, PerfEventOpener? perfEventOpener = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (new ProfefeAgentOptionsValidator().Validate(null, options) is { Failed: true } invalid)
        {
            throw new ArgumentException("invalid profefe agent options: " + invalid.FailureMessage, nameof(options));
        }

        return new ProfefeAgent(options, loggerFactory ?? NullLoggerFactory.Instance, uploader, time ?? TimeProvider.System, runRound, httpClient, perfEventOpener);
    }

    /// <summary>
    /// Stops profiling, ends a round in progress (keeping what it collected), and gives queued profiles up to
    /// <see cref="ProfefeAgentOptions.StopTimeout"/> to be uploaded. Blocks until done; see <see cref="StopAsync"/>.
    /// </summary>
    public void Stop() => StopAsync().GetAwaiter().GetResult();

    /// <summary>Stops the agent like <see cref="Stop"/> without blocking a thread.</summary>
    /// <param name="cancellationToken">Gives up waiting for the final uploads.</param>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopState, 1) == 0)
        {
            _stopTask = StopCoreAsync();
        }

        return _stopTask!.WaitAsync(cancellationToken);
    }

    /// <summary>Stops the agent (see <see cref="StopAsync"/>) and releases its resources.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Only a caller's token cancels StopAsync; DisposeAsync passes none.
        }
    }

    private async Task StopCoreAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        var abandoned = false;
        try
        {
            // A target that stops answering must not hold up its host's shutdown: the round's thread is left behind.
            await _rounds.WaitAsync(RoundStopTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            abandoned = true;
            Log.RoundAbandoned(_logger, RoundStopTimeout);
        }

        await _uploads.ConfigureAwait(false);
        await _queue.DrainAsync(_settings.StopTimeout).ConfigureAwait(false);
        _ownedHttp?.Dispose();
        _queue.Dispose();
        if (!abandoned)
        {
            _stopping.Dispose();
        }

        Log.AgentStopped(_logger);
    }

    private async Task RunRoundsAsync()
    {
        var stopping = _stopping.Token;
        if (_settings.InProcess && DiagnosticsDisabled())
        {
            Log.DiagnosticsDisabled(_logger);
            return;
        }

        try
        {
            await Task.Delay(RandomJitter(), _time, stopping).ConfigureAwait(false);
            while (!stopping.IsCancellationRequested)
            {
                var started = _time.GetTimestamp();
                await RunOneRoundAsync(stopping).ConfigureAwait(false);
                var wait = _settings.Tick - _time.GetElapsedTime(started) + RandomJitter();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, stopping).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task RunOneRoundAsync(CancellationToken stopping)
    {
        var settings = new RoundSettings(_settings.ProcessId, _settings.InProcess, _settings.Kinds, _settings.Duration, _settings.MaxAllocationEventsPerSecond, _perfEvents);
        Log.RoundStarted(_logger);
        RoundResult result;
        try
        {
            // The session blocks a thread for the whole round: give it its own rather than a pool thread.
            result = await Task.Factory.StartNew(
                () => _runRound(settings, _logger, stopping),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever the target or the diagnostics stack throws ends this round only.
            Log.RoundFailed(_logger, e.Message, _logger.IsEnabled(LogLevel.Debug) ? e : null);
            return;
        }

        Log.RoundFinished(_logger, result.Duration, result.ThreadSamples, result.AllocationEvents, result.AllocationEventsSkipped, result.Contentions, result.Profiles.Count);

        // A round cut short by stopping is still worth pushing unless it barely started.
        if (result.Duration < TimeSpan.FromSeconds(1) && stopping.IsCancellationRequested)
        {
            return;
        }

        foreach (var collected in result.Profiles)
        {
            var (type, labels) = collected.Kind == ProfileKinds.Wall ? ("other", _settings.WallLabels) : (TypeOf(collected.Kind), _settings.Labels);
            byte[] data;
            try
            {
                data = ProfileEncoder.EncodeToArray(collected.Profile);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.EncodeFailed(_logger, type, e);
                continue;
            }

            _queue.Enqueue(new PendingProfile(type, labels, data, result.Start));
        }

        Interlocked.Increment(ref _completedRounds);
    }

    internal static string TypeOf(ProfileKinds kind) => kind switch
    {
        ProfileKinds.Cpu => "cpu",
        ProfileKinds.Heap => "heap",
        ProfileKinds.Mutex => "mutex",
        _ => "other",
    };

    private TimeSpan RandomJitter() =>
        _settings.Jitter <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(Random.Shared.NextInt64(_settings.Jitter.Ticks + 1));

    private static bool DiagnosticsDisabled()
    {
        foreach (var name in (string[])["DOTNET_EnableDiagnostics", "COMPlus_EnableDiagnostics"])
        {
            if (Environment.GetEnvironmentVariable(name) == "0")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An immutable copy of the options, taken at start.</summary>
    private sealed record AgentSettings(
        string Service,
        IReadOnlyList<ProfileLabel> Labels,
        IReadOnlyList<ProfileLabel> WallLabels,
        TimeSpan Tick,
        TimeSpan Duration,
        TimeSpan Jitter,
        ProfileKinds Kinds,
        int MaxAllocationEventsPerSecond,
        int ProcessId,
        bool InProcess,
        TimeSpan StopTimeout)
    {
        public static AgentSettings From(ProfefeAgentOptions options)
        {
            var labels = new List<ProfileLabel>();
            foreach (var (key, value) in options.Labels)
            {
                labels.Add(new ProfileLabel(key, value));
            }

            labels.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            var wallLabels = new List<ProfileLabel>(labels.Count + 1);
            foreach (var label in labels)
            {
                if (label.Key != "profile")
                {
                    wallLabels.Add(label);
                }
            }

            wallLabels.Add(new ProfileLabel("profile", "wall"));
            var processId = options.ProcessId ?? Environment.ProcessId;
            return new AgentSettings(
                options.Service.Trim(),
                labels,
                wallLabels,
                options.Tick,
                options.CpuDuration,
                options.Jitter,
                options.Profiles,
                options.MaxAllocationEventsPerSecond,
                processId,
                processId == Environment.ProcessId,
                options.StopTimeout);
        }
    }
}
