using System.Net;

namespace Profefe.Client;

/// <summary>The collector answered a request with an error status; <see cref="Exception.Message"/> carries its error text.</summary>
public sealed class ProfefeApiException : Exception
{
    /// <summary>Creates the exception for an error reply.</summary>
    /// <param name="statusCode">The HTTP status the collector answered.</param>
    /// <param name="message">The collector's error text, or a description of the reply.</param>
    public ProfefeApiException(HttpStatusCode statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>Creates the exception without a status (for serializers and tests).</summary>
    public ProfefeApiException()
    {
    }

    /// <summary>Creates the exception without a status.</summary>
    /// <param name="message">What went wrong.</param>
    public ProfefeApiException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception without a status, wrapping its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ProfefeApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status the collector answered; 0 when there was no reply.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>True when retrying the same request later may succeed (server errors, throttling).</summary>
    public bool IsTransient => StatusCode is 0 or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)StatusCode >= 500;
}
