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
        services.TryAddSingleton<ProfileEngine>();
        services.AddHostedService(static provider => provider.GetRequiredService<ProfileEngine>());
        return services;
    }
}
