using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Server.Access;
using Profefe.Server.Api;
using Profefe.Server.Limits;
using Profefe.Server.Pyroscope;

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

        // The storage check logs why it failed (event 5005); the health service's own line would repeat it.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None);

        var listen = builder.Configuration.GetSection(CollectorListenOptions.SectionName).Get<CollectorListenOptions>() ?? new CollectorListenOptions();
        builder.WebHost.UseUrls(ToUrl(listen.Address));
        ConfigureKestrelLimits(builder.Services);
        builder.Services.Configure<HostOptions>(static options => options.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.AddProfefeCollector();
        builder.Services.AddPyroscopeProtocols();
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
        app.MapPyroscopeEndpoints();
        app.MapUiEndpoints();
        LogListeningOnStart(app);
        return app;
    }

    /// <summary>"host:port" (profefe's -addr form; an empty host listens everywhere) or a URL, as a Kestrel URL.</summary>
    /// <exception cref="FormatException">
    /// host:port without a port, without a host, with a port out of range, or with a host name Kestrel would
    /// quietly replace by every interface; the message says what to write instead.
    /// </exception>
    public static string ToUrl(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = address.Trim();
        if (address.Contains("://", StringComparison.Ordinal))
        {
            return address;
        }

        var colon = address.LastIndexOf(':');
        if (colon < 0)
        {
            throw new FormatException(address.Length > 0 && address.All(char.IsAsciiDigit)
                ? $"\"{address}\" has no host: use 127.0.0.1:{address} (this machine only) or :{address} (every interface)"
                : $"\"{address}\" has no port: use host:port, such as 127.0.0.1:10100 (this machine only) or :10100 (every interface)");
        }

        var host = address[..colon];
        var portText = address[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new FormatException($"\"{address}\": the port must be a number from 1 to 65535, not \"{portText}\"");
        }

        // Kestrel binds a name other than localhost to every interface, which is not what anyone naming a host meant.
        var bareHost = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (bareHost == host && host.Contains(':', StringComparison.Ordinal))
        {
            throw new FormatException($"\"{address}\": put an IPv6 address in brackets, such as [::1]:10100");
        }

        if (host.Length > 0 && host != "*" && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(bareHost, out _))
        {
            throw new FormatException($"\"{address}\": the host must be an IP address of this machine, localhost, or empty for every interface (:{portText})");
        }

        return host is "" or "*" ? "http://*:" + portText : "http://" + address;
    }

    /// <summary>Once the server listens: where (the bound addresses, so port 0 shows its port) and on which storage.</summary>
    private static void LogListeningOnStart(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CollectorHost));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (logger.IsEnabled(LogLevel.Information))
            {
                // Read once started: options are validated at start, not while the host is built.
                var storage = app.Services.GetService<IOptions<StorageOptions>>()?.Value.Type ?? new StorageOptions().Type;
                var addresses = string.Join(", ", app.Urls);
                Log.Listening(logger, addresses, storage);
            }
        });
    }

    /// <summary>
    /// Kestrel's limits from <see cref="ConnectionOptions"/> and <see cref="CollectorOptions"/>. Kestrel reads its
    /// options while the host is built, before ValidateOnStart refuses bad settings at start (as one line from
    /// <c>profefe serve</c>), so settings that fail validation are left out here rather than thrown from the build.
    /// </summary>
    private static void ConfigureKestrelLimits(IServiceCollection services)
    {
        services.AddOptions<ConnectionOptions>()
            .BindConfiguration(ConnectionOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConnectionOptions>, ConnectionOptionsValidator>());
        services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>(static (kestrel, configuration) =>
        {
            var collector = configuration.GetSection(CollectorOptions.SectionName).Get<CollectorOptions>() ?? new CollectorOptions();
            var connections = configuration.GetSection(ConnectionOptions.SectionName).Get<ConnectionOptions>() ?? new ConnectionOptions();
            var limits = kestrel.Limits;
            kestrel.AddServerHeader = false;
            limits.MaxRequestBodySize = collector.MaxBodyBytes;
            limits.MaxConcurrentConnections = ConnectionLimit.Resolve(collector.MaxConnections);
            if (new ConnectionOptionsValidator().Validate(null, connections).Failed)
            {
                return;
            }

            limits.MaxConcurrentUpgradedConnections = connections.MaxUpgradedConnections;
            limits.MinRequestBodyDataRate = connections.MinRequestBodyDataRate > 0
                ? new MinDataRate(connections.MinRequestBodyDataRate, connections.MinRequestBodyDataRateGracePeriod)
                : null;
            limits.KeepAliveTimeout = connections.KeepAliveTimeout;
            limits.RequestHeadersTimeout = connections.RequestHeadersTimeout;
        });
    }

    private static void AddStorage(WebApplicationBuilder builder)
    {
        builder.Services.AddProfefeStorage(builder.Configuration);
        builder.Services.AddProfefeRetention();
    }
}
