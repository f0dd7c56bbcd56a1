using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Profefe.Core;
using Profefe.Server.Access;
using Profefe.Server.Api;
using Profefe.Server.Limits;

namespace Profefe.Server;

/// <summary>
/// Builds the collector: configuration from appsettings.json, then PROFEFE_-prefixed environment variables
/// (PROFEFE_Storage__Local__DataDirectory), then <c>settings</c> (the command line's flags), in rising priority.
/// </summary>
public static class CollectorHost
{
    public const string EnvironmentPrefix = "PROFEFE_";

    /// <param name="settings">Configuration keys that override every other source, e.g. "Collector:Address".</param>
    /// <param name="configureServices">Extra registrations (tests replace the clock or the store here).</param>
    public static WebApplication Build(
        IEnumerable<KeyValuePair<string, string?>>? settings = null,
        Action<WebApplicationBuilder>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // No reloading of appsettings.json on change: options are read once at start, and its watcher
            // follows every file under the content root, which holds the default ./data store. With the
            // store there it took 8% of the collector's CPU under ingest load (one event per WAL write).
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(static options =>
        {
            options.SingleLine = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
        });

        // Our own request line replaces ASP.NET Core's two per request.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var collector = builder.Configuration.GetSection(CollectorOptions.SectionName).Get<CollectorOptions>() ?? new CollectorOptions();
        builder.WebHost.UseUrls(ToUrl(collector.Address));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = collector.MaxBodyBytes;
            kestrel.Limits.MaxConcurrentConnections = ConnectionLimit.Resolve(collector.MaxConnections);
            kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
        });
        builder.Services.Configure<HostOptions>(static options => options.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.AddProfefeCollector();
        AddStorage(builder);
        configureServices?.Invoke(builder);

        var app = builder.Build();

        // Read now, so a bad token or token file stops the start instead of the first request.
        app.Services.GetRequiredService<AccessTokens>();
        app.UseMiddleware<ApiRequestMiddleware>();
        app.UseMiddleware<BrowserDefenceMiddleware>();
        app.UseMiddleware<AccessMiddleware>();
        app.UseMiddleware<RequestLimitMiddleware>();
        app.MapCollectorEndpoints();
        app.MapUiEndpoints();
        return app;
    }

    /// <summary>"host:port" (profefe's -addr form; an empty host listens everywhere) or a URL, as a Kestrel URL.</summary>
    public static string ToUrl(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = address.Trim();
        if (address.Contains("://", StringComparison.Ordinal))
        {
            return address;
        }

        return address.StartsWith(':') ? "http://*" + address : "http://" + address;
    }

    private static void AddStorage(WebApplicationBuilder builder)
    {
        builder.Services.AddProfefeStorage(builder.Configuration);
        builder.Services.AddProfefeRetention();
    }
}
