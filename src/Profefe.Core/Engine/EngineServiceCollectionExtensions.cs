using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Profefe.Core.Engine;

namespace Microsoft.Extensions.DependencyInjection;

public static class EngineServiceCollectionExtensions
{
    /// <summary>
    /// The profile engine (section "Engine") over the backend's <see cref="IProfileLog"/> and
    /// <see cref="IProfileEngineStore"/>, which the backend registers; it runs as a hosted service.
    /// </summary>
    public static IServiceCollection AddProfefeEngine(this IServiceCollection services)
    {
        services.AddOptions<EngineOptions>()
            .BindConfiguration(EngineOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>());
        // The cutter of a store of its own takes what the collector decoded; on shared storage the collector holding
        // the lease cuts what every collector pushed, so there is nothing to hand over.
        services.TryAddSingleton(static provider =>
        {
            var options = provider.GetRequiredService<IOptions<EngineOptions>>().Value;
            var shared = provider.GetRequiredService<IProfileEngineStore>() is ISharedEngineStore;
            return new DecodedProfileHandoff(options.Enabled && !shared ? options.HandoffBytes : 0);
        });
        services.TryAddSingleton<ProfileEngine>();
        services.AddHostedService(static provider => provider.GetRequiredService<ProfileEngine>());
        return services;
    }
}
