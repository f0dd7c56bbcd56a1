namespace Profefe.Core.Storage;

/// <summary>
/// One configured backend: its name as Storage:Type spells it ("local", "postgres", "s3+postgres") and the
/// halves of the storage seam it provides. <paramref name="Statistics"/> is null when the backend keeps none.
/// </summary>
public sealed record ProfileStorageBackend(
    string Name,
    IProfileWriter Writer,
    IProfileReader Reader,
    IProfileRetention Retention,
    IProfileStorageStatistics? Statistics = null)
{
    /// <summary>
    /// Whether the backend can serve: its own readiness check when it has one, else a services listing (which
    /// every backend answers from its index without a scan). Failures of any kind come out as
    /// <see cref="StorageUnavailableException"/> naming the dependency; <paramref name="cancellationToken"/>'s
    /// cancellation (the caller's timeout) is left to the caller.
    /// </summary>
    public async Task CheckReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (Reader is IProfileStorageReadiness readiness)
            {
                await readiness.CheckReadyAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Reader.ListServicesAsync(Tenancy.TenantId.Default, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is not StorageUnavailableException && !cancellationToken.IsCancellationRequested)
        {
            throw new StorageUnavailableException(Name, $"{Name}: {exception.Message}", exception);
        }
    }
}
