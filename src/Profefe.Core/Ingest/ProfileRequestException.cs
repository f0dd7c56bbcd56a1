namespace Profefe.Core.Ingest;

/// <summary>
/// A request the collector refuses, with the HTTP status and the text profefe answers
/// (profefe's StatusError). The server turns it into <c>{"code":…,"error":"…"}</c>.
/// </summary>
public sealed class ProfileRequestException : Exception
{
    public ProfileRequestException()
        : this(500, "internal server error")
    {
    }

    public ProfileRequestException(string message)
        : this(400, message)
    {
    }

    public ProfileRequestException(string message, Exception innerException)
        : this(400, message, innerException)
    {
    }

    public ProfileRequestException(int statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    public int StatusCode { get; }

    /// <summary>The configuration key of the limit the request exceeded (e.g. "Collector:MaxSamplesPerProfile"), or null.</summary>
    public string? Limit { get; init; }

    /// <summary>When the client may try again (the Retry-After header), for refusals that pass with time; else null.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>A request over a configured limit: counted by limit in the metrics.</summary>
    public static ProfileRequestException OverLimit(int statusCode, string limit, string message) =>
        new(statusCode, message) { Limit = limit };

    public static ProfileRequestException BadRequest(string message) => new(400, "bad request: " + message);

    public static ProfileRequestException NothingFound() => new(404, "nothing found");
}
