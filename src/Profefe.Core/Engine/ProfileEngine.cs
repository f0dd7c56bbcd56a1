using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Engine.Query;

namespace Profefe.Core.Engine;

/// <summary>
/// Runs the engine in the background: loads its catalog, then cuts the write log as profiles arrive (paced by a
/// <see cref="CutPacer"/>, which leaves a burst of pushes the CPU) and compacts when idle. Queries call
/// <see cref="CatchUpAsync"/> first so that they see every profile stored before them.
/// </summary>
public sealed partial class ProfileEngine : BackgroundService
{
    private readonly EngineCatalog _catalog = new();
    private readonly IProfileEngineStore _store;
    private readonly IProfileLog _log;
    private readonly EngineOptions _options;
    private readonly ILogger<ProfileEngine> _logger;
    private readonly BlockCutter _cutter;
    private readonly BlockCompactor _compactor;
    private readonly EngineRetention _retention;
    private readonly CutPacer _pacer;
    private readonly SemaphoreSlim _wake = new(0);

    // Cuts, compactions and retention take turns: a cut that read profiles before retention deleted them must
    // commit before retention looks, or it would bring them back.
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ProfileEngine(IProfileEngineStore store, IProfileLog log, IOptions<EngineOptions> options, ILogger<ProfileEngine> logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _log = log;
        _options = options.Value;
        _logger = logger;
        _cutter = new BlockCutter(_catalog, store, log, _options.CutBatch);
        _compactor = new BlockCompactor(store);
        Querier = new EngineQuerier(_catalog, store);
        _retention = new EngineRetention(_catalog, store);
        _pacer = new CutPacer(_options, timeProvider ?? TimeProvider.System);
    }

    public EngineQuerier Querier { get; }

    public long Cursor => _catalog.Cursor;

    public EngineCatalog Catalog => _catalog;

    public IProfileEngineStore Store => _store;

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
                if (head - _catalog.Cursor > _options.MaxCatchUpBacklog)
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
            return await _retention.DeleteStoredBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
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
                if (_pacer.ShouldDefer(await _log.HeadAsync(stoppingToken).ConfigureAwait(false), _catalog.Cursor))
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
            try
            {
                var cut = await _cutter.CutAsync(stoppingToken).ConfigureAwait(false);
                _pacer.Cut(cut, _options.CutBatch);
                Signal();
                if (cut > 0 || await _compactor.CompactAsync(64, stoppingToken).ConfigureAwait(false) > 0)
                {
                    continue;
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

            await _wake.WaitAsync(_options.CutInterval, stoppingToken).ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        _turn.Dispose();
        base.Dispose();
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
}
