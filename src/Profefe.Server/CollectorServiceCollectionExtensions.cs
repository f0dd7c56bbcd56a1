using Microsoft.Extensions.DependencyInjection.Extensions;
using Profefe.Core;
using Profefe.Core.Limits;
using Profefe.Server;
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
            .Validate(static o => o.Validate() is null, "Collector: invalid limits (every Max… positive, MaxConnections not negative, QueryTimeout positive, IngestRate not negative, IngestBurst at least 1) or empty Address")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ProfileCollector>();
        services.TryAddSingleton<ProfileQuerier>();
        services.TryAddSingleton<CollectorMetrics>();
        services.TryAddSingleton<LabelValueTracker>();
        services.TryAddSingleton<RequestLimiters>();
        services.TryAddSingleton<IdempotentPushes>();
        return services;
    }
}
