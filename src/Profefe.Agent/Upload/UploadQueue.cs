using Microsoft.Extensions.Logging;
using Profefe.Client;

namespace Profefe.Agent.Upload;

/// <summary>An encoded profile waiting to be pushed.</summary>
internal sealed record PendingProfile(string Type, IReadOnlyList<ProfileLabel> Labels, byte[] Data, DateTimeOffset CreatedAt);

/// <summary>Pushes one profile to the collector and returns the stored profile's id.</summary>
internal delegate Task<string> ProfileUploader(PendingProfile profile, CancellationToken cancellationToken);

/// <summary>
/// Uploads profiles one at a time, retrying failures with exponential backoff; holds at most a fixed number of
/// profiles and drops the oldest when a new one does not fit, so a collector that is down costs bounded memory.
/// </summary>
internal sealed class UploadQueue : IDisposable
{
    private readonly LinkedList<PendingProfile> _pending = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly int _capacity;
    private readonly ProfileUploader _upload;
    private readonly TimeSpan _initialDelay;
    private readonly TimeSpan _maxDelay;
    private readonly int _maxAttempts;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public UploadQueue(int capacity, ProfileUploader upload, TimeSpan initialDelay, TimeSpan maxDelay, int maxAttempts, TimeProvider time, ILogger logger)
    {
        _capacity = capacity;
        _upload = upload;
        _initialDelay = initialDelay;
        _maxDelay = maxDelay;
        _maxAttempts = maxAttempts;
        _time = time;
        _logger = logger;
    }

    public int Count
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Profiles dropped because the queue was full.</summary>
    public long Dropped { get; private set; }

    public void Dispose() => _signal.Dispose();

    public void Enqueue(PendingProfile profile)
    {
        PendingProfile? dropped = null;
        lock (_pending)
        {
            if (_pending.Count >= _capacity)
            {
                dropped = _pending.First!.Value;
                _pending.RemoveFirst();
                Dropped++;
            }

            _pending.AddLast(profile);
        }

        if (dropped is not null)
        {
            Log.QueueFull(_logger, dropped.Type);
        }

        _signal.Release();
    }

    /// <summary>Uploads until <paramref name="stopping"/> is cancelled; a profile interrupted mid-retry goes back to the front.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            while (TryTake(out var profile))
            {
                if (!await UploadWithRetriesAsync(profile, stopping).ConfigureAwait(false))
                {
                    lock (_pending)
                    {
                        _pending.AddFirst(profile);
                    }

                    return;
                }
            }
        }
    }

    /// <summary>One last attempt for each queued profile, within <paramref name="timeout"/>; stops at the first failure.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout, _time);
        while (TryTake(out var profile))
        {
            try
            {
                var id = await _upload(profile, cts.Token).ConfigureAwait(false);
                Log.ProfileUploaded(_logger, profile.Type, id, profile.Data.Length);
            }
            catch (Exception e) when (IsUploadFailure(e))
            {
                lock (_pending)
                {
                    _pending.AddFirst(profile);
                }

                break;
            }
        }

        var left = Count;
        if (left > 0)
        {
            Log.UploadsAbandoned(_logger, left);
            lock (_pending)
            {
                _pending.Clear();
            }
        }
    }

    /// <summary>The delay before attempt number <paramref name="attempt"/> + 1: doubling from the initial delay, capped.</summary>
    internal static TimeSpan RetryDelay(int attempt, TimeSpan initial, TimeSpan max)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        var delay = initial * factor;
        return delay > max ? max : delay;
    }

    /// <returns>false when cancelled before the profile was uploaded or given up on.</returns>
    private async Task<bool> UploadWithRetriesAsync(PendingProfile profile, CancellationToken stopping)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var id = await _upload(profile, stopping).ConfigureAwait(false);
                Log.ProfileUploaded(_logger, profile.Type, id, profile.Data.Length);
                return true;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return false;
            }
            catch (ProfefeApiException e) when (!e.IsTransient)
            {
                // The collector understood and refused: sending the same bytes again cannot help.
                Log.UploadRejected(_logger, profile.Type, e.Message);
                return true;
            }
            catch (Exception e) when (IsUploadFailure(e))
            {
                if (attempt >= _maxAttempts)
                {
                    Log.UploadGaveUp(_logger, profile.Type, attempt, e.Message);
                    return true;
                }

                var delay = RetryDelay(attempt, _initialDelay, _maxDelay);
                Log.UploadRetrying(_logger, profile.Type, attempt, _maxAttempts, delay, e.Message);
                try
                {
                    await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }
    }

    // Whatever the upload throws must not end the queue: the agent never fails its host.
    private static bool IsUploadFailure(Exception e) => e is not OutOfMemoryException;

    private bool TryTake(out PendingProfile profile)
    {
        lock (_pending)
        {
            if (_pending.First is { } first)
            {
                profile = first.Value;
                _pending.RemoveFirst();
                return true;
            }
        }

        profile = null!;
        return false;
    }
}
