using System.CommandLine;
using Profefe.Cli.Output;

namespace Profefe.Cli.Commands;

/// <summary><c>profefe get</c>: downloads one stored profile, or several merged.</summary>
internal static class GetCommand
{
    public static Command Create()
    {
        var command = new Command("get", "Download a stored profile by id; several ids are merged into one profile");
        var ids = new Argument<string[]>("ID") { Description = "The profiles' ids", Arity = ArgumentArity.OneOrMore };
        var output = ProfileOutput.CreateOption();
        var collector = CollectorConnection.CreateCollectorOption();
        command.Arguments.Add(ids);
        command.Options.Add(output);
        command.Options.Add(collector);
        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            using var connection = CollectorConnection.Open(parseResult, collector, TimeSpan.FromMinutes(5));
            var data = await connection.RequestAsync((client, ct) => client.GetProfileAsync(parseResult.GetValue(ids) ?? [], ct), cancellationToken).ConfigureAwait(false);
            await ProfileOutput.WriteAsync(parseResult, parseResult.GetValue(output), data, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
