using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Profefe.Agent;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the profefe agent to a generic host.</summary>
public static class ProfefeAgentServiceCollectionExtensions
{
    /// <summary>
    /// Runs the <see cref="ProfefeAgent"/> as a hosted service for the host's lifetime. Options come from the
    /// configuration section <c>Profefe:Agent</c> (for example <c>Profefe__Agent__CollectorAddress</c>), then from
    /// <paramref name="configure"/>; they are validated when the host starts.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets options in code, e.g. <c>o =&gt; { o.CollectorAddress = new("http://profefe:10100"); o.Service = "api"; }</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddProfefeAgent(this IServiceCollection services, Action<ProfefeAgentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ProfefeAgentOptions>().BindConfiguration(ProfefeAgentOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProfefeAgentOptions>, ProfefeAgentOptionsValidator>());
        services.AddHttpClient(ProfefeAgentHostedService.HttpClientName);
        services.AddHostedService<ProfefeAgentHostedService>();
        return services;
    }
}
