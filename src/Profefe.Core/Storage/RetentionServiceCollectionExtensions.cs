using Microsoft.Extensions.DependencyInjection.Extensions;
using Profefe.Core.Storage;

namespace Microsoft.Extensions.DependencyInjection;

public static class RetentionServiceCollectionExtensions
{
    /// <summary>
    /// Background deletion of old profiles (section "Retention") through whichever <see cref="IProfileRetention"/>
    /// the storage registered.
    /// </summary>
    public static IServiceCollection AddProfefeRetention(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RetentionOptions>()
            .BindConfiguration(RetentionOptions.SectionName)
            .Validate(static options => options.Period >= TimeSpan.Zero, "Retention:Period must not be negative (00:00:00 keeps profiles forever)")
            .Validate(static options => options.RawPeriod is null || options.RawPeriod >= TimeSpan.Zero, "Retention:RawPeriod must not be negative (00:00:00 keeps raw bytes forever)")
            .Validate(static options => options.Interval > TimeSpan.Zero, "Retention:Interval must be positive")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<ProfileRetentionService>();
        return services;
    }
}
