namespace Profefe.Core.Storage;

/// <summary>
/// Lets a backend say whether every dependency it needs answers (for GET /health). A backend whose reads do not
/// touch all its dependencies (S3 + PostgreSQL lists services from PostgreSQL alone) implements it; for the
/// others the health endpoint lists services.
/// </summary>
public interface IProfileStorageReadiness
{
    /// <summary>Returns when the backend can serve; throws <see cref="StorageUnavailableException"/> naming the dependency that cannot.</summary>
    Task CheckReadyAsync(CancellationToken cancellationToken);
}
