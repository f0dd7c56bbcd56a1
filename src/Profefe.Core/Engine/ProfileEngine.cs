using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Engine.Query;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Core.Engine;

/// <summary>
/// Runs the engine in the background: loads its catalog, then cuts the write log as profiles arrive (on a store of
/// its own paced by a <see cref="CutPacer"/>, which leaves a burst of pushes the CPU) and compacts when idle. Queries
/// call <see cref="CatchUpAsync"/> first so that they see every profile stored before them.
/// On a <see cref="ISharedEngineStore"/> only the collector holding the lease cuts, compacts and applies
/// retention; the others read, loading what it committed on every pass (each <see cref="EngineOptions.CutInterval"/>,
/// and at once when a query waits in <see cref="CatchUpAsync"/>), so a query sees every commit made before it.
/// </summary>
public sealed partial class ProfileEngine : BackgroundService
{
    private readonly EngineCatalog _catalog = new();
    private readonly IProfileEngineStore _store;
    private readonly ISharedEngineStore? _shared;
    private readonly IProfileLog _log;
    private readonly EngineOptions _options;
    private readonly ILogger<ProfileEngine> _logger;
    private readonly BlockCutter _cutter;
    private readonly BlockCompactor _compactor;
    private readonly EngineRetention _retention;
    private readonly CutPacer _pacer;
    private readonly TimeProvider _timeProvider;
    private long _lastCompaction;

    // Profiles per second of the recent cuts (0 until one was timed), written by the cut loop, read by queries.
    private double _cutRate;

    // Log entries this collector's cuts took: on shared storage, with the backlog, the log's head in profiles for the pacer.
    private long _profilesCut;
    private readonly SemaphoreSlim _wake = new(0);

    // Cuts, compactions and retention take turns: a cut that read profiles before retention deleted them must
    // commit before retention looks, or it would bring them back.
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Whether this collector held the shared store's lease at its last renewal; always so on a store of its own.
    private volatile bool _leading;

    // Reads at one cursor that a commit landed under are tried again this often before the caller falls back.
    private const int MaxReadAttempts = 3;

    // How long a read at one cursor waits for a commit of this collector's cutter to end.
    private static readonly TimeSpan CommitWait = TimeSpan.FromSeconds(2);

    // Buckets one compaction merges, in one transaction and (on shared storage) one object.
    private const int MaxBucketsPerCompaction = 256;

    public ProfileEngine(IProfileEngineStore store, IProfileLog log, IOptions<EngineOptions> options, ILogger<ProfileEngine> logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _shared = store as ISharedEngineStore;
        _leading = _shared is null;
        _log = log;
        _options = options.Value;
        _logger = logger;
        _cutter = new BlockCutter(_catalog, store, log, _options.CutBatch);
        _compactor = new BlockCompactor(store);
        Querier = new EngineQuerier(_catalog, store);
        _retention = new EngineRetention(_catalog, store);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _pacer = new CutPacer(_options, _timeProvider);
        _lastCompaction = _timeProvider.GetTimestamp();
    }

    public EngineQuerier Querier { get; }

    public long Cursor => _catalog.Cursor;

    public EngineCatalog Catalog => _catalog;

    public IProfileEngineStore Store => _store;

    /// <summary>Whether this collector cuts, compacts and applies retention (false while another holds the shared store's lease).</summary>
    public bool IsLeading => _leading;

    /// <summary>
    /// Waits until the engine has every profile the log held when called; false when that would take longer than
    /// the settings allow (the caller then reads raw profiles).
    /// </summary>
    public async Task<bool> CatchUpAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return false;
        }

        var head = await _log.HeadAsync(cancellationToken).ConfigureAwait(false);
        if (_loaded.Task.IsCompletedSuccessfully && _catalog.Cursor >= head)
        {
            return true;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CatchUpTimeout);
        try
        {
            _pacer.RequestCatchUp();
            await _loaded.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            while (_catalog.Cursor < head)
            {
                if (!await CanCatchUpAsync(timeout.Token).ConfigureAwait(false))
                {
                    return false;
                }

                var progress = _progress.Task;
                _wake.Release();
                await progress.WaitAsync(timeout.Token).ConfigureAwait(false);
            }

            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="read"/> against the engine's data as of one cursor into the write log, handing it that
    /// cursor: the data it reads then holds exactly the profiles logged at or before it, and the log's profiles after
    /// it are the ones not cut yet, so a merge can add those raw without waiting for the cutter and without counting
    /// any twice. Read is false when the engine is off or still loading, or when cuts kept landing while the reads ran
    /// (on shared storage, the lease holder's too); the caller then waits for the cutter or reads raw profiles.
    /// </summary>
    public async Task<(bool Read, T Value)> ReadAtCursorAsync<T>(Func<long, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (!_options.Enabled || !_loaded.Task.IsCompletedSuccessfully)
        {
            return (false, default!);
        }

        for (var attempt = 0; attempt < MaxReadAttempts; attempt++)
        {
            // Waits for this collector's cut being committed rather than read data about to change.
            if (!await _catalog.Gate.TryEnterReadAsync(CommitWait, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            try
            {
                var commits = _catalog.Gate.Commits;

                // A reader's catalog must hold every series up to the cursor it reads at: load what the holder committed.
                // The holder must not (its own commits would come back while it cuts); its catalog is the store's.
                if (_shared is not null && !_leading)
                {
                    await _shared.RefreshAsync(_catalog, cancellationToken).ConfigureAwait(false);
                }

                var cursor = _catalog.Cursor;
                var value = await read(cursor, cancellationToken).ConfigureAwait(false);
                if (_catalog.Gate.Commits == commits && (_shared is null || await _shared.ReadCursorAsync(cancellationToken).ConfigureAwait(false) == cursor))
                {
                    return (true, value);
                }
            }
            finally
            {
                _catalog.Gate.ExitRead();
            }
        }

        return (false, default!);
    }

    /// <summary>
    /// The profiles logged after <paramref name="cursor"/> that <paramref name="query"/> matches, in log order; null
    /// when more than <paramref name="max"/> match or the service's backlog is longer than
    /// <see cref="EngineOptions.MaxCatchUpBacklog"/> (reading it raw would cost more than waiting for the cutter).
    /// <paramref name="selects"/>, when given, narrows the query further (Pyroscope's label selectors), so only the
    /// profiles a read will use count against <paramref name="max"/>.
    /// </summary>
    public async Task<List<ProfileMeta>?> ListUncutAsync(
        long cursor, TenantId tenant, ProfileQuery query, int max, CancellationToken cancellationToken, Func<ProfileMeta, bool>? selects = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        var logged = await _log.ListAfterAsync(cursor, tenant, query.Service, _options.MaxCatchUpBacklog + 1, cancellationToken).ConfigureAwait(false);
        if (logged.Count > _options.MaxCatchUpBacklog)
        {
            return null;
        }

        var matches = new List<ProfileMeta>();
        foreach (var meta in logged)
        {
            if ((query.Type is null || meta.Type == query.Type) && meta.CreatedAt >= query.From && meta.CreatedAt <= query.To && LabelFilter.HasEvery(meta.Labels, query.Labels)
                && (selects is null || selects(meta)))
            {
                if (matches.Count == max)
                {
                    return null;
                }

                matches.Add(meta);
            }
        }

        return matches;
    }

    /// <summary>
    /// Whether the cutter can take in the backlog before a query gives up waiting: not when it holds more than
    /// <see cref="EngineOptions.MaxCatchUpBacklog"/> profiles, nor when the recent cuts' rate says it would take longer
    /// than <see cref="EngineOptions.CatchUpTimeout"/>. Reading raw at once beats waiting out the timeout first (on
    /// shared storage, after a burst, merges waited 5 s and then read raw anyway).
    /// </summary>
    private async Task<bool> CanCatchUpAsync(CancellationToken cancellationToken)
    {
        var backlog = await _log.CountAfterAsync(_catalog.Cursor, _options.MaxCatchUpBacklog + 1L, cancellationToken).ConfigureAwait(false);
        var rate = Volatile.Read(ref _cutRate);
        return backlog <= _options.MaxCatchUpBacklog && (rate <= 0 || backlog / rate <= _options.CatchUpTimeout.TotalSeconds);
    }

    /// <summary>Deletes the engine's profiles stored before <paramref name="cutoff"/>, between two cuts; returns how many went.</summary>
    public async Task<long> DeleteStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return 0;
        }

        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_shared is null)
            {
                return await _retention.DeleteStoredBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
            }

            if (!await LeadAsync(cancellationToken).ConfigureAwait(false))
            {
                // The lease holder applies retention for everyone.
                return 0;
            }

            var deleted = await _retention.DeleteStoredBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
            await _shared.DeleteOrphansAsync(cancellationToken).ConfigureAwait(false);
            return deleted;
        }
        finally
        {
            _turn.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _catalog.Load(await _store.LoadAsync(stoppingToken).ConfigureAwait(false));
                _loaded.TrySetResult();
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogLoadFailed(_logger, e);
                await Task.Delay(_options.CutInterval, stoppingToken).ConfigureAwait(false);
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await ShouldDeferAsync(stoppingToken).ConfigureAwait(false))
                {
                    await _wake.WaitAsync(_options.CutInterval, stoppingToken).ConfigureAwait(false);
                    continue;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Without the log's head the pacer cannot tell a burst: cut, which reads the log and logs why it fails.
            }

            await _turn.WaitAsync(stoppingToken).ConfigureAwait(false);
            var busy = false;
            try
            {
                if (await LeadAsync(stoppingToken).ConfigureAwait(false))
                {
                    var started = _timeProvider.GetTimestamp();
                    var cut = await _cutter.CutAsync(stoppingToken).ConfigureAwait(false);
                    _profilesCut += cut;
                    RecordCutRate(cut, _timeProvider.GetElapsedTime(started));
                    _pacer.Cut(cut, _options.CutBatch);
                    Signal();
                    var compacted = 0;
                    if (cut == 0 || _timeProvider.GetElapsedTime(_lastCompaction) >= _options.CompactInterval)
                    {
                        compacted = await _compactor.CompactAsync(MaxBucketsPerCompaction, stoppingToken).ConfigureAwait(false);
                        _lastCompaction = _timeProvider.GetTimestamp();
                    }

                    // On shared storage every cut is an object PUT: with a backlog shorter than a batch, the next cut
                    // waits for the interval (or a query that needs it), so a steady stream costs one PUT a second,
                    // not one per handful of profiles.
                    busy = (_shared is null ? cut > 0 : cut >= _options.CutBatch) || compacted > 0;
                }
                else
                {
                    // A reader: its catalog now holds what the lease holder committed.
                    Signal();
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogCutFailed(_logger, e);
                Signal();
            }
            finally
            {
                _turn.Release();
            }

            if (!busy)
            {
                await _wake.WaitAsync(_options.CutInterval, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whether the cutter leaves a burst of pushes in the log for now (see <see cref="CutPacer"/>). On shared storage
    /// the log's positions are transaction ids, one per batch of profiles, so the pacer is given profiles: those this
    /// collector cut plus the backlog after its cursor; and the lease is renewed while it waits, or a reader would take
    /// it over. Only the lease holder paces: the others do not cut.
    /// </summary>
    private async Task<bool> ShouldDeferAsync(CancellationToken cancellationToken)
    {
        if (_shared is null)
        {
            return _pacer.ShouldDefer(await _log.HeadAsync(cancellationToken).ConfigureAwait(false), _catalog.Cursor);
        }

        if (!_leading || _options.MaxCutDelay <= TimeSpan.Zero)
        {
            return false;
        }

        var backlog = await _log.CountAfterAsync(_catalog.Cursor, _options.MaxCatchUpBacklog + 1L, cancellationToken).ConfigureAwait(false);
        if (!_pacer.ShouldDefer(_profilesCut + backlog, _profilesCut, headAtLeast: backlog > _options.MaxCatchUpBacklog))
        {
            return false;
        }

        // Lost: the loop's LeadAsync notices (and says so) and stops cutting.
        return await _shared.TryHoldLeaseAsync(_options.LeaseDuration, cancellationToken).ConfigureAwait(false);
    }

    // Only full cuts say how fast the cutter goes: a small one is mostly its fixed cost.
    private void RecordCutRate(int cut, TimeSpan elapsed)
    {
        if (cut < _options.CutBatch / 2 || elapsed <= TimeSpan.Zero)
        {
            return;
        }

        var rate = cut / elapsed.TotalSeconds;
        var previous = Volatile.Read(ref _cutRate);
        Volatile.Write(ref _cutRate, previous <= 0 ? rate : (previous * 0.7) + (rate * 0.3));
    }

    public override void Dispose()
    {
        _wake.Dispose();
        _turn.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// On shared storage: renews (or takes) the lease, then loads what others committed, so a new holder's catalog
    /// has every commit before its first; true when this collector may change the engine's data.
    /// </summary>
    private async Task<bool> LeadAsync(CancellationToken cancellationToken)
    {
        if (_shared is null)
        {
            return true;
        }

        var leading = await _shared.TryHoldLeaseAsync(_options.LeaseDuration, cancellationToken).ConfigureAwait(false);
        if (leading != _leading)
        {
            _leading = leading;
            if (leading)
            {
                LogLeaseTaken(_logger);
            }
            else
            {
                LogLeaseLost(_logger);
            }
        }

        await _shared.RefreshAsync(_catalog, cancellationToken).ConfigureAwait(false);
        return leading;
    }

    private void Signal()
    {
        var previous = _progress;
        _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    [LoggerMessage(EventId = CoreEventIds.EngineLoadFailed, Level = LogLevel.Error, Message = "The profile engine could not load its state; retrying")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = CoreEventIds.EngineCutFailed, Level = LogLevel.Error, Message = "Cutting engine blocks failed; the write log is read again from the last commit")]
    private static partial void LogCutFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = CoreEventIds.EngineLeaseTaken, Level = LogLevel.Information, Message = "This collector now cuts, compacts and applies retention for the shared profile engine")]
    private static partial void LogLeaseTaken(ILogger logger);

    [LoggerMessage(EventId = CoreEventIds.EngineLeaseLost, Level = LogLevel.Warning, Message = "Another collector holds the shared profile engine's lease; this one only reads")]
    private static partial void LogLeaseLost(ILogger logger);
}
