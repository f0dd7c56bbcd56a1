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

    /// <summary>A profile over one of <see cref="ProfileDecoderOptions"/>' limits; <paramref name="limit"/> names it.</summary>
    public ProfileFormatException(string message, string limit)
        : base(message)
    {
        ExceededLimit = limit;
    }

    /// <summary>
    /// The name of the <see cref="ProfileDecoderOptions"/> limit the data exceeds (e.g. "MaxSamples"), or null
    /// when the data is malformed rather than too big.
    /// </summary>
    public string? ExceededLimit { get; }
}
