using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Limits;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Server;
using Profefe.Server.Access;
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
        services.AddCollectorTelemetry();
        services.TryAddSingleton<LabelValueTracker>();
        services.TryAddSingleton<StorageWriteStatus>();
        services.TryAddSingleton<RequestLimiters>();
        services.TryAddSingleton<IdempotentPushes>();
        services.AddOptions<AccessOptions>()
            .BindConfiguration(AccessOptions.SectionName)
            .Validate<IOptions<CollectorOptions>>(
                static (access, collector) => access.RequireToken == false || access.Tokens.Count > 0 || !string.IsNullOrEmpty(access.TokensFile)
                    || (access.RequireToken is null && AccessOptions.IsLoopback(collector.Value.Address)),
                "Access: the collector listens beyond loopback (or Access:RequireToken is true), so requests need access tokens: "
                + "configure Access:Tokens or Access:TokensFile, or set Access:RequireToken=false to serve without authentication")
            .ValidateOnStart();
        services.TryAddSingleton<AccessTokens>();
        return services;
    }
}
