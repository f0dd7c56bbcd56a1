using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Profefe.Client;

namespace Profefe.Cli.Commands;

/// <summary><c>profefe find</c>: stored profiles' metadata, as a table or JSON.</summary>
internal static class FindCommand
{
    private static readonly JsonSerializerOptions JsonOutput = new() { WriteIndented = true };
    private static readonly string[] Header = ["ID", "TYPE", "CREATED_AT", "LABELS"];

    public static Command Create(TimeProvider? timeProvider = null)
    {
        var clock = timeProvider ?? TimeProvider.System;
        var command = new Command("find", "Find stored profiles of a service in a time range");
        var collector = CollectorConnection.CreateCollectorOption();
        var query = new QueryOptions(command, serviceRequired: true, typeRequired: false);
        var json = new Option<bool>("--json") { Description = "Print the profiles as JSON instead of a table" };
        command.Options.Add(json);
        command.Options.Add(collector);
        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            var filter = query.ReadFilter(parseResult, clock.GetUtcNow());
            using var connection = CollectorConnection.Open(parseResult, collector, TimeSpan.FromSeconds(60));
            var profiles = await connection.Client.FindProfilesAsync(filter, cancellationToken).ConfigureAwait(false);
            if (profiles.Count == 0)
            {
                await connection.EnsureCollectorAsync(cancellationToken).ConfigureAwait(false);
            }

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(profiles, JsonOutput)).ConfigureAwait(false);
            }
            else if (profiles.Count == 0)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync(QueryOptions.NothingFound(filter)).ConfigureAwait(false);
            }
            else
            {
                await output.WriteAsync(FormatTable(profiles)).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    public static string FormatTable(IReadOnlyList<ProfileInfo> profiles)
    {
        var rows = new List<string[]>(profiles.Count + 1) { Header };
        foreach (var profile in profiles)
        {
            rows.Add(
            [
                profile.Id,
                profile.Type,
                profile.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                FormatLabels(profile.Labels),
            ]);
        }

        var widths = new int[4];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        var table = new StringBuilder();
        var line = new StringBuilder();
        foreach (var row in rows)
        {
            line.Clear();
            for (var i = 0; i < row.Length - 1; i++)
            {
                line.Append(row[i].PadRight(widths[i] + 2));
            }

            table.Append(line.Append(row[^1]).ToString().TrimEnd()).Append('\n');
        }

        return table.ToString();
    }

    private static string FormatLabels(IReadOnlyList<ProfileLabel>? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var label in labels)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(label.Key).Append('=').Append(label.Value);
        }

        return text.ToString();
    }
}
