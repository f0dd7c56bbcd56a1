using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Profefe.Core.Storage;

/// <summary>
/// Deletes profiles older than <see cref="RetentionOptions.Period"/> every <see cref="RetentionOptions.Interval"/>,
/// in the background: the backends delete in small batches, so requests never wait for a whole pass.
/// </summary>
public sealed class ProfileRetentionService(
    IProfileRetention retention,
    IOptions<RetentionOptions> options,
    TimeProvider timeProvider,
    ILogger<ProfileRetentionService> logger) : BackgroundService
{
    private readonly RetentionOptions _options = options.Value;

    /// <summary>One retention pass; returns how many profiles went. Failures are logged, not thrown: the next pass retries.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (_options.Period <= TimeSpan.Zero)
        {
            return 0;
        }

        var cutoff = timeProvider.GetUtcNow().UtcDateTime - _options.Period;
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
        if (_options.Period <= TimeSpan.Zero)
        {
            Log.RetentionDisabled(logger);
            return;
        }

        Log.RetentionStarted(logger, _options.Period, _options.Interval);
        using var timer = new PeriodicTimer(_options.Interval, timeProvider);
        do
        {
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
