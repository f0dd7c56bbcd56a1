using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Server.Health;

/// <summary>
/// Ready when every storage dependency answers within Storage:HealthTimeout; else unhealthy with profefe's
/// "not ready: {dependency} storage: {reason}". Nothing is cached: once the dependency is back the next check
/// reports ready. A backend with a readiness check (<see cref="IProfileStorageReadiness"/>, which the
/// multi-writer has for all its backends) is asked that; others list their services, which every backend
/// answers from its index without a scan. Not ready either while writes fail (<see cref="StorageWriteStatus"/>).
/// </summary>
internal sealed class StorageHealthCheck(IServiceProvider services, ILogger<StorageHealthCheck> logger) : IHealthCheck
{
    public const string Name = "storage";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var options = services.GetService<IOptions<StorageOptions>>()?.Value ?? new StorageOptions();
        var limit = options.HealthTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            var reader = services.GetRequiredService<IProfileReader>();
            if (reader is IProfileStorageReadiness readiness)
            {
                await readiness.CheckReadyAsync(timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await reader.ListServicesAsync(TenantId.Default, timeout.Token).ConfigureAwait(false);
            }

            // A full disk still answers reads; the pushes it refuses tell.
            if (services.GetService<StorageWriteStatus>()?.CurrentFailure() is { } failure)
            {
                throw new StorageUnavailableException(options.Type, "writes failing: " + failure, null);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.HealthCheckFailed(logger, e);
            // A timeout does not say which dependency hangs; the configured storage is the best name there is.
            var dependency = e is StorageUnavailableException unavailable ? unavailable.Dependency : options.Type;
            var reason = e is OperationCanceledException ? $"no answer within {limit.TotalSeconds:0.###} s" : e.Message;
            return HealthCheckResult.Unhealthy($"not ready: {dependency} storage: {reason}", e);
        }

        return HealthCheckResult.Healthy("ready");
    }
}
