using System.CommandLine;

namespace Profefe.Cli.Commands;

/// <summary><c>profefe services</c>: the services that have stored profiles.</summary>
internal static class ServicesCommand
{
    public static Command Create()
    {
        var command = new Command("services", "List the services that have profiles in the collector");
        var collector = CollectorConnection.CreateCollectorOption();
        command.Options.Add(collector);
        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            using var connection = CollectorConnection.Open(parseResult, collector, TimeSpan.FromSeconds(60));
            var services = await connection.Client.ListServicesAsync(cancellationToken).ConfigureAwait(false);
            if (services.Count == 0)
            {
                await connection.EnsureCollectorAsync(cancellationToken).ConfigureAwait(false);
                await parseResult.InvocationConfiguration.Error.WriteLineAsync("no services: the collector has no profiles yet (profefe push adds some)").ConfigureAwait(false);
                return 0;
            }

            var output = parseResult.InvocationConfiguration.Output;
            foreach (var service in services)
            {
                await output.WriteLineAsync(service).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }
}
