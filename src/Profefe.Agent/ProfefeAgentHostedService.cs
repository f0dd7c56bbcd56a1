using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Profefe.Agent;

/// <summary>Runs the <see cref="ProfefeAgent"/> for the lifetime of a generic host.</summary>
internal sealed class ProfefeAgentHostedService : IHostedService, IAsyncDisposable
{
    private readonly IOptions<ProfefeAgentOptions> _options;
    private readonly ILoggerFactory _loggerFactory;
    private ProfefeAgent? _agent;

    public ProfefeAgentHostedService(IOptions<ProfefeAgentOptions> options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _loggerFactory = loggerFactory;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _agent = ProfefeAgent.Start(_options.Value, _loggerFactory);
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

/// <summary>Checks <see cref="ProfefeAgentOptions"/> when the host starts.</summary>
internal sealed class ProfefeAgentOptionsValidator : IValidateOptions<ProfefeAgentOptions>
{
    public ValidateOptionsResult Validate(string? name, ProfefeAgentOptions options) =>
        options.Validate() is { } problem ? ValidateOptionsResult.Fail("Profefe:Agent: " + problem) : ValidateOptionsResult.Success;
}
