namespace Profefe.Core.Engine;

/// <summary>
/// Decides when the block cutter runs. While pushes arrive fast (the write log grows by at least
/// <see cref="EngineOptions.BusyIngestRate"/> a second) the cutter leaves them in the log, so that ingest has the
/// CPU, for at most <see cref="EngineOptions.MaxCutDelay"/>; then it cuts until it has caught up, and may defer
/// again. A query that needs the engine ends the wait at once. Nothing here touches data: deferred profiles are
/// durable in the log, and reads in the meantime take the raw path or wait for the catch-up, so results stay exact.
/// </summary>
public sealed class CutPacer
{
    // The growth rate is measured over at least this long, so one cut's pause does not read as an idle log.
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly TimeSpan _maxDelay;
    private readonly int _busyRate;
    private long _windowHead = -1;
    private long _windowStart;
    private bool _busy;
    private long? _deferringSince;
    private bool _catchingUp;
    private int _asked;

    public CutPacer(EngineOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _maxDelay = options.MaxCutDelay;
        _busyRate = options.BusyIngestRate;
    }

    /// <summary>A query waits for the engine: the next look cuts, and keeps cutting until caught up.</summary>
    public void RequestCatchUp() => Interlocked.Exchange(ref _asked, 1);

    /// <summary>
    /// True when the cutter should leave the profiles after <paramref name="cursor"/> in the log for now;
    /// <paramref name="head"/> is the log's newest position. Called by the cutter's loop only.
    /// </summary>
    /// <param name="headAtLeast">
    /// True when <paramref name="head"/> is only a lower bound (a count of the backlog that stopped at its limit):
    /// the log's growth cannot be seen then, so the rate measured last stands. A count that stops growing must not
    /// read as ingest gone quiet: on shared storage it made the cutter start in the middle of every long burst.
    /// </param>
    public bool ShouldDefer(long head, long cursor, bool headAtLeast = false)
    {
        var now = _time.GetTimestamp();
        if (headAtLeast)
        {
            // Measure afresh once the count is exact again, not against a head from before.
            _windowHead = -1;
        }
        else
        {
            MeasureRate(head, now);
        }

        if (Interlocked.Exchange(ref _asked, 0) == 1)
        {
            _catchingUp = true;
        }

        if (head <= cursor || _catchingUp || _maxDelay <= TimeSpan.Zero || !_busy)
        {
            _deferringSince = null;
            return false;
        }

        _deferringSince ??= now;
        if (_time.GetElapsedTime(_deferringSince.Value, now) < _maxDelay)
        {
            return true;
        }

        _catchingUp = true;
        _deferringSince = null;
        return false;
    }

    /// <summary>After a cut: one that took less than a full batch took everything the log had, so the catch-up is over.</summary>
    public void Cut(int taken, int batch)
    {
        if (taken < batch)
        {
            _catchingUp = false;
        }
    }

    private void MeasureRate(long head, long now)
    {
        if (_windowHead < 0)
        {
            _windowHead = head;
            _windowStart = now;
            return;
        }

        var elapsed = _time.GetElapsedTime(_windowStart, now);
        if (elapsed < RateWindow)
        {
            return;
        }

        _busy = (head - _windowHead) / elapsed.TotalSeconds >= _busyRate;
        _windowHead = head;
        _windowStart = now;
    }
}
