using Microsoft.Extensions.DependencyInjection.Extensions;
using Profefe.Core;
using Profefe.Server;

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
            .Validate(static o => o.MaxBodyBytes > 0, "Collector:MaxBodyBytes must be positive")
            .Validate(static o => o.MaxMergeProfiles > 0, "Collector:MaxMergeProfiles must be positive")
            .Validate(static o => o.MaxDecompressedBytes > 0, "Collector:MaxDecompressedBytes must be positive")
            .Validate(static o => !string.IsNullOrWhiteSpace(o.Address), "Collector:Address must not be empty")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ProfileCollector>();
        services.TryAddSingleton<ProfileQuerier>();
        services.TryAddSingleton<CollectorMetrics>();
        return services;
    }
}
