namespace Profefe.Core.Storage;

/// <summary>
/// A storage dependency (object storage, PostgreSQL, the local database) cannot serve the request right now.
/// The collector answers 503 naming <see cref="Dependency"/>; nothing was half-written.
/// </summary>
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException()
    {
        Dependency = "storage";
    }

    public StorageUnavailableException(string message)
        : base(message)
    {
        Dependency = "storage";
    }

    public StorageUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
        Dependency = "storage";
    }

    public StorageUnavailableException(string dependency, string message, Exception? innerException)
        : base(message, innerException)
    {
        Dependency = dependency;
    }

    /// <summary>Which dependency failed, e.g. "s3", "postgres", "local".</summary>
    public string Dependency { get; }
}
