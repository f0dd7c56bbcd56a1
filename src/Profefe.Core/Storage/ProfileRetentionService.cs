using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Profefe.Core.Storage;

/// <summary>
/// Deletes raw profiles older than <see cref="RetentionOptions.EffectiveRawPeriod"/> and the profile engine's hours
/// older than <see cref="RetentionOptions.Period"/> every <see cref="RetentionOptions.Interval"/>, in the background:
/// the backends delete in small batches, so requests never wait for a whole pass.
/// </summary>
public sealed class ProfileRetentionService(
    IProfileRetention retention,
    IOptions<RetentionOptions> options,
    TimeProvider timeProvider,
    ILogger<ProfileRetentionService> logger,
    Engine.ProfileEngine? engine = null) : BackgroundService
{
    private readonly RetentionOptions _options = options.Value;

    private bool Enabled => _options.Period > TimeSpan.Zero || _options.EffectiveRawPeriod > TimeSpan.Zero;

    private bool DeletesRaw => _options.EffectiveRawPeriod > TimeSpan.Zero;

    /// <summary>One retention pass; returns how many raw profiles went. Failures are logged, not thrown: the next pass retries.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var rawPeriod = _options.EffectiveRawPeriod;
        if (engine is not null && DeletesRaw)
        {
            try
            {
                // The engine first takes in what raw retention is about to delete, so both keep the same profiles.
                // When it cannot (it lags past Engine:CatchUpTimeout or MaxCatchUpBacklog, or is off), raw bytes may
                // be the only copy of some profiles: this pass keeps them for the whole retention period.
                if (!await engine.CatchUpAsync(cancellationToken).ConfigureAwait(false)
                    && (_options.Period == TimeSpan.Zero || rawPeriod < _options.Period))
                {
                    Log.RawRetentionHeldBack(logger, rawPeriod, _options.Period);
                    rawPeriod = _options.Period;
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.RetentionFailed(logger, exception);
                return 0;
            }
        }

        var deleted = await DeleteRawAsync(now, rawPeriod, cancellationToken).ConfigureAwait(false);
        if (engine is not null && _options.Period > TimeSpan.Zero)
        {
            try
            {
                await engine.DeleteStoredBeforeAsync(now - _options.Period, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.RetentionFailed(logger, exception);
            }
        }

        return deleted;
    }

    private async Task<int> DeleteRawAsync(DateTime now, TimeSpan rawPeriod, CancellationToken cancellationToken)
    {
        // Kept forever, the pass still runs with a cutoff that deletes nothing: the backends clean up there what a
        // crash left behind (objects on shared storage that no index row points at).
        var cutoff = rawPeriod > TimeSpan.Zero ? now - rawPeriod : DateTime.MinValue;
        try
        {
            var deleted = await retention.DeleteProfilesStoredBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
            if (deleted > 0)
            {
                Log.RetentionDeleted(logger, deleted, cutoff);
            }

            return deleted;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.RetentionFailed(logger, exception);
            return 0;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Enabled)
        {
            Log.RetentionStarted(logger, _options.Period, _options.Interval);
        }
        else
        {
            Log.RetentionDisabled(logger);
        }

        using var timer = new PeriodicTimer(_options.Interval, timeProvider);
        do
        {
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
