using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Server.Access;

namespace Profefe.Server.Limits;

/// <summary>
/// Holds requests to the collector's concurrency and rate limits before any endpoint runs: pushes to the tenant's
/// rate and the uploads allowed at once, merges to the merges allowed at once; reads and merges get the server-side
/// deadline Collector:QueryTimeout as their <see cref="HttpContext.RequestAborted"/>. Over a limit: 429 (400 for
/// the deadline) naming the configuration key, so reads never starve ingest and no client can take the process down.
/// </summary>
internal sealed class RequestLimitMiddleware(RequestDelegate next, RequestLimiters limiters, IOptions<CollectorOptions> options)
{
    private readonly TimeSpan _queryTimeout = options.Value.QueryTimeout;

    public async Task InvokeAsync(HttpContext context)
    {
        switch (RequestKinds.Of(context.Request))
        {
            case RequestKind.Ingest:
                await PushAsync(context).ConfigureAwait(false);
                break;
            case RequestKind.Merge:
                await WithDeadlineAsync(context, MergeAsync).ConfigureAwait(false);
                break;
            case RequestKind.Read:
                await WithDeadlineAsync(context, next).ConfigureAwait(false);
                break;
            default:
                await next(context).ConfigureAwait(false);
                break;
        }
    }

    private async Task PushAsync(HttpContext context)
    {
        var tenant = context.GetTenant();
        using var rate = limiters.AcquirePush(tenant);
        if (!rate.IsAcquired)
        {
            if (rate.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
            {
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            throw TooMany("Collector:IngestRate", $"tenant \"{tenant}\" pushes faster than its ingest rate limit; retry later");
        }

        var upload = await limiters.Uploads.AcquireAsync(1, context.RequestAborted).ConfigureAwait(false);
        if (!upload.IsAcquired)
        {
            upload.Dispose();
            throw TooMany("Collector:MaxConcurrentUploads", "too many uploads in progress and queued; retry later");
        }

        // A store that batches writes gives the slot back once the push only waits for its batch (UploadSlot).
        using var slot = UploadSlot.Hold(upload);
        await next(context).ConfigureAwait(false);
    }

    private async Task MergeAsync(HttpContext context)
    {
        // Waiting in the queue counts against the deadline too.
        using var merge = await limiters.Merges.AcquireAsync(1, context.RequestAborted).ConfigureAwait(false);
        if (!merge.IsAcquired)
        {
            throw TooMany("Collector:MaxConcurrentMerges", "too many merges running and queued; retry later");
        }

        await next(context).ConfigureAwait(false);
    }

    private async Task WithDeadlineAsync(HttpContext context, RequestDelegate inner)
    {
        var aborted = context.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(_queryTimeout);
        context.RequestAborted = deadline.Token;
        try
        {
            await inner(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            throw new ProfileRequestException(StatusCodes.Status400BadRequest,
                $"bad request: the query ran longer than {_queryTimeout.TotalSeconds:0.###} s (Collector:QueryTimeout) and was stopped; narrow the time range or set \"limit\"",
                e)
            {
                Limit = "Collector:QueryTimeout",
            };
        }
        finally
        {
            context.RequestAborted = aborted;
        }
    }

    private static ProfileRequestException TooMany(string limit, string message) =>
        ProfileRequestException.OverLimit(StatusCodes.Status429TooManyRequests, limit, "too many requests: " + message + $" ({limit})");
}
