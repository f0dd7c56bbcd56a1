namespace Profefe.Server.Pyroscope.Connect;

/// <summary>A Connect error: its code (invalid_argument, not_found, …) goes on the wire with the message.</summary>
internal sealed class ConnectException : Exception
{
    public ConnectException()
        : this(ConnectCode.Internal, "internal error")
    {
    }

    public ConnectException(string message)
        : this(ConnectCode.InvalidArgument, message)
    {
    }

    public ConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = ConnectCode.InvalidArgument;
    }

    public ConnectException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public string Code { get; }

    public static ConnectException InvalidArgument(string message) => new(ConnectCode.InvalidArgument, message);
}

/// <summary>Connect's error codes and the HTTP status each is sent with.</summary>
internal static class ConnectCode
{
    public const string InvalidArgument = "invalid_argument";
    public const string NotFound = "not_found";
    public const string ResourceExhausted = "resource_exhausted";
    public const string Unimplemented = "unimplemented";
    public const string Internal = "internal";
    public const string Unavailable = "unavailable";

    public static int HttpStatusOf(string code) => code switch
    {
        InvalidArgument => 400,
        NotFound => 404,
        ResourceExhausted => 429,
        Unimplemented => 501,
        Unavailable => 503,
        _ => 500,
    };

    /// <summary>The code for one of profefe's HTTP errors.</summary>
    public static string FromHttpStatus(int status) => status switch
    {
        404 => NotFound,
        413 => ResourceExhausted,
        503 => Unavailable,
        >= 400 and < 500 => InvalidArgument,
        _ => Internal,
    };
}
