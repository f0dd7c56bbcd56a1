using System.Net;
using Microsoft.Extensions.Logging;
using Profefe.Cli.Arguments;
using Profefe.Cli.Commands;
using Profefe.Client;
using Profefe.Pprof;

namespace Profefe.Cli.Scrape;

/// <summary>
/// Takes one kind of profile from one target on its schedule and pushes it to the collector.
/// Each target and kind gets its own taker and loop, so a slow or broken target only ever delays itself.
/// </summary>
internal sealed class ProfileTaker(
    ScrapeTarget target,
    ProfileSchedule schedule,
    ScrapeSettings settings,
    ScrapeStats stats,
    ILogger logger)
{
    /// <summary>Largest profile accepted from a target; a bigger answer is a misconfigured target, not a profile.</summary>
    private const int MaxProfileBytes = 64 * 1024 * 1024;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly ProfileDecoderOptions _decoderOptions = new() { RequireSamples = false };

    public ScrapeTarget Target => target;

    public ProfileSchedule Schedule => schedule;

    /// <summary>Takes and pushes until cancelled, every interval plus random jitter.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Spread the first takes so that many targets started together do not fire at the same moment.
            await Task.Delay(RandomDelay(Min(settings.Jitter, schedule.Interval)), settings.Time, cancellationToken).ConfigureAwait(false);
            while (!cancellationToken.IsCancellationRequested)
            {
                var started = settings.Time.GetTimestamp();
                try
                {
                    await TakeAndPushAsync(schedule.Interval, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    // A bug must not silently end this target's profiling: report it and try again next round.
                    stats.TakeFailed(target, schedule.Endpoint);
                    Log.TakeCrashed(logger, schedule.Endpoint.Name, target.BaseUrl, e);
                }

                var wait = schedule.Interval + RandomDelay(settings.Jitter) - settings.Time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, settings.Time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: the target was removed or the scraper is shutting down.
        }
    }

    /// <summary>Takes one profile and pushes it, retrying the push for at most <paramref name="retryFor"/>; true when it arrived (or was empty).</summary>
    public async Task<bool> TakeAndPushAsync(TimeSpan retryFor, CancellationToken cancellationToken)
    {
        var endpoint = schedule.Endpoint;
        var takenAt = settings.Time.GetUtcNow();
        byte[] data;
        try
        {
            data = await FetchAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or ScrapeTargetException or IOException)
        {
            stats.TakeFailed(target, endpoint);
            Log.TakeFailed(logger, endpoint.Name, target.BaseUrl, Describe(e));
            return false;
        }

        if (endpoint != PprofEndpoint.Trace)
        {
            // Checked here rather than by the collector: an empty block or mutex profile (the default when Go's rate
            // is not set) is normal and must not count as a failure, and garbage is the target's fault, not the collector's.
            try
            {
                if (ProfileDecoder.Decode(data, _decoderOptions).Samples.Count == 0)
                {
                    stats.TakeEmpty(target, endpoint);
                    Log.TakeEmpty(logger, endpoint.Name, target.BaseUrl);
                    return true;
                }
            }
            catch (ProfileFormatException e)
            {
                stats.TakeFailed(target, endpoint);
                Log.TakeFailed(logger, endpoint.Name, target.BaseUrl, "the answer is not a pprof profile: " + e.Message);
                return false;
            }
        }

        stats.TakeSucceeded(target, endpoint);
        return await PushAsync(data, takenAt, retryFor, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> PushAsync(byte[] data, DateTimeOffset takenAt, TimeSpan retryFor, CancellationToken cancellationToken)
    {
        var endpoint = schedule.Endpoint;
        var giveUpAt = settings.Time.GetTimestamp() + (long)(retryFor.TotalSeconds * settings.Time.TimestampFrequency);
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                var info = await settings.Collector.PushProfileAsync(target.Service, endpoint.ProfefeType, target.Labels, data, takenAt, cancellationToken).ConfigureAwait(false);
                stats.PushSucceeded(target, endpoint, data.Length);
                Log.ProfilePushed(logger, endpoint.Name, target.BaseUrl, data.Length, info.Id);
                return true;
            }
            catch (ProfefeApiException e) when (!cancellationToken.IsCancellationRequested)
            {
                // Exponential backoff with jitter while the collector is down or overloaded; a rejection is final.
                var retryDelay = delay + RandomDelay(delay / 2);
                if (!e.IsTransient || settings.Time.GetTimestamp() + (long)(retryDelay.TotalSeconds * settings.Time.TimestampFrequency) > giveUpAt)
                {
                    stats.PushFailed(target, endpoint);
                    Log.PushFailed(logger, endpoint.Name, target.BaseUrl, CommandActions.OneLine(e.Message));
                    return false;
                }

                stats.PushRetried(target, endpoint);
                Log.PushRetrying(logger, endpoint.Name, target.BaseUrl, retryDelay, CommandActions.OneLine(e.Message));
                await Task.Delay(retryDelay, settings.Time, cancellationToken).ConfigureAwait(false);
                delay = Min(delay * 2, MaxRetryDelay);
            }
        }
    }

    private async Task<byte[]> FetchAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var limit = schedule.Duration + settings.Timeout;
        timeout.CancelAfter(limit);
        var url = schedule.Endpoint.UrlFor(target.BaseUrl, schedule.Duration);
        try
        {
            using var response = await settings.Targets.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                var firstLine = text.Split('\n', 2)[0].Trim();
                throw new ScrapeTargetException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}" + (firstLine.Length > 0 ? ": " + Truncate(firstLine, 200) : ""));
            }

            if (response.Content.Headers.ContentLength > MaxProfileBytes)
            {
                throw new ScrapeTargetException($"{url} answered {response.Content.Headers.ContentLength} bytes, more than the {MaxProfileBytes} allowed");
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, timeout.Token).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxProfileBytes)
                {
                    throw new ScrapeTargetException($"{url} answered more than the {MaxProfileBytes} bytes allowed");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ScrapeTargetException($"{url} did not answer within {GoDuration.Format(limit)}", e);
        }
    }

    private static string Describe(Exception e) => e switch
    {
        HttpRequestException { InnerException: { } inner } http => CommandActions.OneLine($"{http.Message} ({inner.Message})"),
        _ => CommandActions.OneLine(e.Message),
    };

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan RandomDelay(TimeSpan max) =>
        max <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(Random.Shared.NextInt64(max.Ticks + 1));
}

/// <summary>A target answered badly (error status, too slow, too big).</summary>
internal sealed class ScrapeTargetException : Exception
{
    public ScrapeTargetException()
    {
    }

    public ScrapeTargetException(string message)
        : base(message)
    {
    }

    public ScrapeTargetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What every taker shares: the clients, timeouts and clock.</summary>
/// <param name="Collector">Pushes to the collector.</param>
/// <param name="Targets">Fetches from targets; without a timeout of its own, each request gets one.</param>
/// <param name="Timeout">How long a target may take on top of the profile's duration.</param>
/// <param name="Jitter">Up to how long each take is randomly delayed.</param>
/// <param name="Time">The clock.</param>
internal sealed record ScrapeSettings(ProfefeClient Collector, HttpClient Targets, TimeSpan Timeout, TimeSpan Jitter, TimeProvider Time);
