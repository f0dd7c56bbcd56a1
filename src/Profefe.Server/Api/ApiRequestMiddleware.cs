using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Storage;
using Profefe.Core.Text;
using Profefe.Pprof;
using Profefe.Server.Limits;

namespace Profefe.Server.Api;

/// <summary>
/// Wraps every request: turns failures into profefe's JSON error envelope, answers Go's plain 404 for
/// paths nothing handles, logs one line per request and feeds the request metrics.
/// </summary>
internal sealed class ApiRequestMiddleware(RequestDelegate next, CollectorMetrics metrics, ILogger<ApiRequestMiddleware> logger)
{
    /// <summary>Handlers may name the resource for metrics (e.g. "/api/0/profiles/{ids}") under this key.</summary>
    public const string MetricsPathKey = "profefe.metrics-path";

    private static readonly byte[] GoNotFound = "404 page not found\n"u8.ToArray();

    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        var counter = new CountingStream(context.Response.Body);
        context.Response.Body = counter;
        try
        {
            await next(context).ConfigureAwait(false);
            if (context.GetEndpoint() is null && context.Response.StatusCode == StatusCodes.Status404NotFound && !context.Response.HasStarted)
            {
                await WriteGoNotFoundAsync(context).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, e).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            Log.FailedAfterResponseStarted(logger, context.Request.Method, LoggedPath(context), e);
            context.Abort();
        }
        finally
        {
            context.Response.Body = counter.Inner;
            var elapsed = Stopwatch.GetElapsedTime(start);
            var requestBytes = context.Request.ContentLength ?? 0;
            metrics.RecordRequest(context.Request.Method, MetricsPath(context), context.Response.StatusCode, elapsed.TotalSeconds, requestBytes, counter.BytesWritten);
            var path = LoggedPath(context);
            Log.Request(logger, context.Request.Method, path, context.Response.StatusCode, elapsed.TotalMilliseconds, requestBytes, counter.BytesWritten);
        }
    }

    private async Task WriteErrorAsync(HttpContext context, Exception exception)
    {
        // Headers already set stay: profefe sends Content-Disposition with the errors of a download.
        var request = context.Request;
        switch (exception)
        {
            case ProfileRequestException e:
                if (e.Limit is { } limit)
                {
                    metrics.RecordRefusal(limit);
                }

                ApiReply.SetRetryAfter(context, e.RetryAfter);
                await ApiReply.ErrorAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
                break;
            case ProfileFormatException e:
                await ApiReply.ErrorAsync(context, StatusCodes.Status400BadRequest, $"malformed profile (could not parse pprof profile: {e.Message})").ConfigureAwait(false);
                break;
            case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                metrics.RecordRefusal("Collector:MaxBodyBytes");
                await ApiReply.ErrorAsync(context, StatusCodes.Status413PayloadTooLarge, RequestBody.TooLargeMessage(context)).ConfigureAwait(false);
                break;
            case BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout }:
                // Kestrel cut a body that arrived too slowly (Collector:MinRequestBodyDataRate).
                const string Rate = "Collector:MinRequestBodyDataRate";
                metrics.RecordRefusal(Rate);
                var minimum = context.RequestServices.GetRequiredService<IOptions<ConnectionOptions>>().Value.MinRequestBodyDataRate;
                await ApiReply.ErrorAsync(context, StatusCodes.Status408RequestTimeout,
                    $"request timeout: the body arrived slower than {minimum} bytes per second ({Rate})").ConfigureAwait(false);
                break;
            case BadHttpRequestException e:
                await ApiReply.ErrorAsync(context, e.StatusCode, "bad request: " + e.Message).ConfigureAwait(false);
                break;
            case StorageUnavailableException e:
                Log.StorageUnavailable(logger, request.Method, LoggedPath(context), e.Dependency, e);
                await ApiReply.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, $"service unavailable: {e.Dependency} storage: {e.Message}").ConfigureAwait(false);
                break;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                // The client went away; nobody reads the answer. 499 is nginx's "client closed request", for logs and metrics.
                context.Response.StatusCode = 499;
                break;
            default:
                Log.RequestFailed(logger, request.Method, LoggedPath(context), exception);
                await ApiReply.ErrorAsync(context, StatusCodes.Status500InternalServerError, "internal server error").ConfigureAwait(false);
                break;
        }
    }

    // The path is decoded: "%0A" in a URL must not start a new log line.
    private static string LoggedPath(HttpContext context) => ControlCharacters.Escape(context.Request.Path.Value);

    private static Task WriteGoNotFoundAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.XContentTypeOptions = "nosniff";
        response.ContentLength = GoNotFound.Length;
        return response.Body.WriteAsync(GoNotFound, context.RequestAborted).AsTask();
    }

    private static string MetricsPath(HttpContext context)
    {
        if (context.Items.TryGetValue(MetricsPathKey, out var named) && named is string path)
        {
            return path;
        }

        return context.GetEndpoint() is RouteEndpoint endpoint ? "/" + endpoint.RoutePattern.RawText?.TrimStart('/') : "other";
    }
}
