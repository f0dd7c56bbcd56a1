using Microsoft.Extensions.Options;
using Profefe.Core.Settings;

namespace Profefe.Server.Limits;

/// <summary>
/// Kestrel's limits on what a connection may hold (configuration section "Collector"): without them 1,000 idle or
/// half-sent connections and uploads trickling at 512 B/s were all held for as long as their clients liked, each
/// keeping an upload permit and a socket. The connection count itself is Collector:MaxConnections.
/// </summary>
public sealed class ConnectionOptions
{
    public const string SectionName = "Collector";

    /// <summary>Upgraded (WebSocket) connections at once; 0 refuses every upgrade: nothing in the collector uses one.</summary>
    [SettingRange("Collector:MaxUpgradedConnections", 0, int.MaxValue)]
    public int MaxUpgradedConnections { get; set; }

    /// <summary>
    /// Bytes per second a request body must arrive at, on average, once <see cref="MinRequestBodyDataRateGracePeriod"/>
    /// is over; slower bodies are cut (408). An agent's profile of 100 KB needs a tenth of a second; 0 turns it off.
    /// </summary>
    [SettingRange("Collector:MinRequestBodyDataRate", 0, double.MaxValue)]
    public double MinRequestBodyDataRate { get; set; } = 1024;

    /// <summary>How long a body may arrive slower than <see cref="MinRequestBodyDataRate"/> at first (more than Kestrel's 1 s heartbeat).</summary>
    [SettingRange("Collector:MinRequestBodyDataRateGracePeriod", typeof(TimeSpan), "00:00:01.0000001", "1.00:00:00", Must = "longer than 1 s and at most a day")]
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a connection may wait for its next request (or its first) before it is closed. Agents push every
    /// 10–15 s, so 20 s keeps their connections while idle ones go.
    /// </summary>
    [SettingRange("Collector:KeepAliveTimeout", typeof(TimeSpan), "00:00:00.0000001", "1.00:00:00", Must = "positive and at most a day")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a client may take to send a request's headers once it started (408 after that).</summary>
    [SettingRange("Collector:RequestHeadersTimeout", typeof(TimeSpan), "00:00:00.0000001", "1.00:00:00", Must = "positive and at most a day")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Checks <see cref="ConnectionOptions"/> (source-generated from its annotations).</summary>
[OptionsValidator]
internal sealed partial class ConnectionOptionsValidator : IValidateOptions<ConnectionOptions>;
