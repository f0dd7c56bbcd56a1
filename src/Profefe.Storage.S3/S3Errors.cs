using System.Globalization;
using System.Net.Sockets;
using Amazon.Runtime;
using Profefe.Core.Storage;

namespace Profefe.Storage.S3;

/// <summary>Sorts SDK failures: the object storage unreachable, slow, refusing or misconfigured is a 503 naming "s3".</summary>
internal static class S3Errors
{
    public const string Dependency = "s3";

    /// <summary>
    /// The exception to throw for <paramref name="exception"/>, or null when it is not the object storage's fault
    /// (the caller cancelled, a bug) and must go through unchanged. <paramref name="deadline"/> is the bound of the
    /// request that failed, if it has one.
    /// </summary>
    public static StorageUnavailableException? ToUnavailable(Exception exception, string bucket, CancellationToken cancellationToken, S3RequestDeadline? deadline = null) => exception switch
    {
        StorageUnavailableException unavailable => unavailable,
        OperationCanceledException when cancellationToken.IsCancellationRequested => null,
        // Once the request's own bound passed, whatever the SDK made of the cancellation is that timeout.
        OperationCanceledException or TimeoutException or AmazonServiceException or AmazonClientException or HttpRequestException or SocketException or IOException
            when deadline is { Expired: true } => new StorageUnavailableException(Dependency,
            $"s3: request to bucket {bucket} timed out after {deadline.Limit.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s", exception),
        // Every service error counts, 4xx included: a missing bucket or refused credentials is a broken
        // dependency from the collector's point of view, and the client can do nothing about it.
        AmazonServiceException service => new StorageUnavailableException(Dependency, Describe(service, bucket), exception),
        // The SDK's own timeout surfaces as a cancellation nobody asked for.
        OperationCanceledException or TimeoutException =>
            new StorageUnavailableException(Dependency, $"s3: request to bucket {bucket} timed out", exception),
        AmazonClientException or HttpRequestException or SocketException or IOException =>
            new StorageUnavailableException(Dependency, $"s3: {Innermost(exception)}", exception),
        _ => null,
    };

    private static string Describe(AmazonServiceException exception, string bucket)
    {
        if (exception.StatusCode == 0 || exception.InnerException is HttpRequestException or SocketException or IOException)
        {
            // No answer at all (refused, reset): the message says what happened on the wire.
            return $"s3: {Innermost(exception)}";
        }

        var code = string.IsNullOrEmpty(exception.ErrorCode) ? exception.StatusCode.ToString() : exception.ErrorCode;
        return $"s3: {code} (HTTP {(int)exception.StatusCode}) on bucket {bucket}: {exception.Message}";
    }

    private static string Innermost(Exception exception)
    {
        var message = exception.Message;
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            message = inner.Message;
        }

        return message;
    }
}
