using System.CommandLine;
using Profefe.Cli.Output;

namespace Profefe.Cli.Commands;

/// <summary><c>profefe merge</c>: merges the stored profiles a query selects into one.</summary>
internal static class MergeCommand
{
    public static Command Create(TimeProvider? timeProvider = null)
    {
        var clock = timeProvider ?? TimeProvider.System;
        var command = new Command("merge", "Merge the stored profiles of a service and type in a time range into one profile");
        var query = new QueryOptions(command, serviceRequired: true, typeRequired: true);
        var output = ProfileOutput.CreateOption();
        var collector = CollectorConnection.CreateCollectorOption();
        command.Options.Add(output);
        command.Options.Add(collector);
        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            var filter = query.ReadFilter(parseResult, clock.GetUtcNow());
            using var connection = CollectorConnection.Open(parseResult, collector, TimeSpan.FromMinutes(5));
            var data = await connection.RequestAsync((client, ct) => client.MergeProfilesAsync(filter, ct), cancellationToken, QueryOptions.NothingFound(filter)).ConfigureAwait(false);
            await ProfileOutput.WriteAsync(parseResult, parseResult.GetValue(output), data, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
