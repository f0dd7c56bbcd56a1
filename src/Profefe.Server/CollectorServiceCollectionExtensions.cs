using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Limits;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Pprof;
using Profefe.Server;
using Profefe.Server.Access;
using Profefe.Server.Health;
using Profefe.Server.Idempotency;
using Profefe.Server.Limits;

namespace Microsoft.Extensions.DependencyInjection;

public static class CollectorServiceCollectionExtensions
{
    /// <summary>
    /// The collector's services: <see cref="ProfileCollector"/>, <see cref="ProfileQuerier"/> and
    /// <see cref="CollectorOptions"/> (section "Collector"). A storage backend must be added beside it.
    /// </summary>
    public static IServiceCollection AddProfefeCollector(this IServiceCollection services)
    {
        services.AddOptions<CollectorOptions>()
            .BindConfiguration(CollectorOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorOptions>, CollectorOptionsValidator>());
        services.AddOptions<CollectorListenOptions>()
            .BindConfiguration(CollectorListenOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorListenOptions>, CollectorListenOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static services => new InflateBudget(services.GetRequiredService<IOptions<CollectorOptions>>().Value.ResolveInflateBudget()));
        services.TryAddSingleton<ProfileCollector>();
        services.TryAddSingleton<ProfileQuerier>();
        services.TryAddSingleton<CollectorMetrics>();
        services.AddCollectorTelemetry();
        services.AddHealthChecks().AddCheck<StorageHealthCheck>(StorageHealthCheck.Name);
        services.TryAddSingleton<LabelValueTracker>();
        services.TryAddSingleton<SampleLayoutTracker>();
        services.TryAddSingleton<StorageWriteStatus>();
        services.TryAddSingleton<RequestLimiters>();
        services.TryAddSingleton<IdempotentPushes>();
        services.AddOptions<AccessOptions>()
            .BindConfiguration(AccessOptions.SectionName)
            .Validate<IOptions<CollectorListenOptions>>(
                static (access, collector) => access.RequireToken == false || access.Tokens.Count > 0 || !string.IsNullOrEmpty(access.TokensFile)
                    || (access.RequireToken is null && AccessOptions.IsLoopback(collector.Value.Address)),
                "Access: the collector listens beyond loopback (or Access:RequireToken is true), so requests need access tokens: "
                + "configure Access:Tokens or Access:TokensFile, or set Access:RequireToken=false to serve without authentication")
            .ValidateOnStart();
        services.TryAddSingleton<AccessTokens>();
        return services;
    }
}
