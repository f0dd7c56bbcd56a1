namespace Profefe.Cli.Arguments;

/// <summary>The user asked for something that cannot be done; the message is shown as it is, without a stack trace.</summary>
internal sealed class CliUsageException : Exception
{
    public CliUsageException()
    {
    }

    public CliUsageException(string message)
        : base(message)
    {
    }

    public CliUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
