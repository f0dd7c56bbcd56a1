using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Profefe.Agent;

/// <summary>Runs the <see cref="ProfefeAgent"/> for the lifetime of a generic host.</summary>
internal sealed class ProfefeAgentHostedService : IHostedService, IAsyncDisposable
{
    /// <summary>The named <see cref="HttpClient"/> the agent pushes with (configure it with AddHttpClient).</summary>
    public const string HttpClientName = "Profefe.Agent";

    private readonly IOptions<ProfefeAgentOptions> _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly IHttpClientFactory _httpClients;
    private ProfefeAgent? _agent;

    public ProfefeAgentHostedService(IOptions<ProfefeAgentOptions> options, ILoggerFactory loggerFactory, IHttpClientFactory httpClients)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _httpClients = httpClients;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _agent = ProfefeAgent.StartWith(_options.Value, _loggerFactory, uploader: null, time: null, httpClient: _httpClients.CreateClient(HttpClientName));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_agent is { } agent)
        {
            try
            {
                await agent.StopAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The host's shutdown timeout won; the agent finishes stopping in the background.
            }
        }
    }

    public ValueTask DisposeAsync() => _agent?.DisposeAsync() ?? ValueTask.CompletedTask;
}
