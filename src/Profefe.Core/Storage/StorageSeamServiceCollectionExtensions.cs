using Microsoft.Extensions.DependencyInjection.Extensions;
using Profefe.Core.Storage;

namespace Microsoft.Extensions.DependencyInjection;

public static class StorageSeamServiceCollectionExtensions
{
    /// <summary>
    /// The one <typeparamref name="TStorage"/> singleton (registered before) as the writer, reader, retention and
    /// statistics of the storage seam, so every half resolves to the same instance.
    /// </summary>
    public static IServiceCollection AddProfileStorageSeam<TStorage>(this IServiceCollection services)
        where TStorage : class, IProfileWriter, IProfileReader, IProfileRetention, IProfileStorageStatistics
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IProfileWriter>(static provider => provider.GetRequiredService<TStorage>());
        services.TryAddSingleton<IProfileReader>(static provider => provider.GetRequiredService<TStorage>());
        services.TryAddSingleton<IProfileRetention>(static provider => provider.GetRequiredService<TStorage>());
        services.TryAddSingleton<IProfileStorageStatistics>(static provider => provider.GetRequiredService<TStorage>());
        return services;
    }
}
