using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Engine;
using Profefe.Storage.Local;
using Profefe.Storage.Local.Engine;

namespace Microsoft.Extensions.DependencyInjection;

public static class LocalStorageServiceCollectionExtensions
{
    /// <summary>
    /// The embedded SQLite store (section "Storage:Local") as the writer, reader, retention and statistics
    /// of the storage seam. The container disposes it on shutdown, which finishes queued writes.
    /// </summary>
    public static IServiceCollection AddProfefeLocalStorage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<LocalStorageOptions>()
            .BindConfiguration(LocalStorageOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LocalStorageOptions>, LocalStorageOptionsValidator>());
        services.TryAddSingleton(static provider => new LocalProfileStorage(
            provider.GetRequiredService<IOptions<LocalStorageOptions>>().Value,
            provider.GetService<ILogger<LocalProfileStorage>>()));
        services.AddProfileStorageSeam<LocalProfileStorage>();
        services.TryAddSingleton<IProfileLog>(static provider => provider.GetRequiredService<LocalProfileStorage>());
        services.TryAddSingleton<IProfileEngineStore>(static provider => new LocalEngineStore(provider.GetRequiredService<LocalProfileStorage>().DataDirectory));
        return services;
    }
}
