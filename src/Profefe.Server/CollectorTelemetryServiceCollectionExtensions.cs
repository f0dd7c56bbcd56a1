using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using Profefe.Server;

namespace Microsoft.Extensions.DependencyInjection;

internal static class CollectorTelemetryServiceCollectionExtensions
{
    private const string KestrelMeterName = "Microsoft.AspNetCore.Server.Kestrel";

    /// <summary>
    /// OpenTelemetry metrics for /debug/metrics: the collector's meter, the process and .NET runtime metrics,
    /// and Kestrel's refused connections (as profefe_rejected_connections_total).
    /// </summary>
    public static IServiceCollection AddCollectorTelemetry(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(static metrics => metrics
            .AddMeter(CollectorMetrics.MeterName, KestrelMeterName)
            .AddProcessInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter(static options =>
            {
                // Every scrape reads current values: the store's gauges are read just before it.
                options.ScrapeResponseCacheDurationMilliseconds = 0;
                options.ScopeInfoEnabled = false;
                options.TargetInfoEnabled = false;
            }));

        // OpenTelemetry listens to meters by name in the whole process; tests run several collectors in one,
        // so only this host's instruments (from its IMeterFactory) are counted here.
        services.ConfigureOpenTelemetryMeterProvider(static (provider, builder) =>
        {
            var factory = provider.GetRequiredService<IMeterFactory>();
            builder.AddView(instrument => SelectStream(instrument, factory));
        });
        return services;
    }

    private static MetricStreamConfiguration? SelectStream(Instrument instrument, IMeterFactory factory) => instrument.Meter.Name switch
    {
        CollectorMetrics.MeterName => ReferenceEquals(instrument.Meter.Scope, factory) ? null : MetricStreamConfiguration.Drop,
        KestrelMeterName => instrument.Name == "kestrel.rejected_connections" && ReferenceEquals(instrument.Meter.Scope, factory)
            ? new MetricStreamConfiguration { Name = "profefe.rejected_connections", Description = "Connections refused because Collector:MaxConnections were open." }
            : MetricStreamConfiguration.Drop,
        _ => null,
    };
}
