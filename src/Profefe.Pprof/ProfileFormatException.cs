namespace Profefe.Pprof;

/// <summary>
/// The one exception the pprof library raises for data it cannot accept: malformed, truncated,
/// inconsistent, too large when inflated, or with no samples.
/// </summary>
public sealed class ProfileFormatException : Exception
{
    public ProfileFormatException()
    {
    }

    public ProfileFormatException(string message)
        : base(message)
    {
    }

    public ProfileFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
