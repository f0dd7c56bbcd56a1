using System.CommandLine;
using System.Globalization;
using System.Text;
using Profefe.Cli.Arguments;
using Profefe.Client;
using Profefe.Core.Views;
using Profefe.Pprof;

namespace Profefe.Cli.Commands;

/// <summary><c>profefe top</c>: the hottest functions of stored profiles, laid out like <c>go tool pprof -top</c>.</summary>
internal static class TopCommand
{
    public static Command Create(TimeProvider? timeProvider = null)
    {
        var clock = timeProvider ?? TimeProvider.System;
        var command = new Command("top", "Print the hottest functions of stored profiles (by id, or merged from a query), like go tool pprof -top");
        var ids = new Argument<string[]>("ID") { Description = "Profile ids (several are merged); omit to select by --service/--type/--from/--to", Arity = ArgumentArity.ZeroOrMore };
        var query = new QueryOptions(command, serviceRequired: false, typeRequired: false, typeDefault: "the one type the service has in the time range");
        var nodeCount = new Option<int>("--nodecount", "-n") { Description = "How many functions to show (0: all)", HelpName = "N", DefaultValueFactory = _ => 20 };
        var sampleIndex = new Option<string?>("--sample-index") { Description = "The sample type to rank by (default: the profile's default, as pprof does)", HelpName = "TYPE" };
        var collector = CollectorConnection.CreateCollectorOption();
        command.Arguments.Add(ids);
        command.Options.Add(nodeCount);
        command.Options.Add(sampleIndex);
        command.Options.Add(collector);
        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            var idList = parseResult.GetValue(ids) ?? [];
            if (idList.Length > 0 == query.HasService(parseResult))
            {
                throw new CliUsageException("give either profile ids or --service to select profiles");
            }

            var count = parseResult.GetValue(nodeCount);
            if (count < 0)
            {
                throw new CliUsageException("--nodecount must not be negative");
            }

            using var connection = CollectorConnection.Open(parseResult, collector, TimeSpan.FromMinutes(5));
            byte[] data;
            if (idList.Length > 0)
            {
                data = await connection.RequestAsync((client, ct) => client.GetProfileAsync(idList, ct), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var filter = query.ReadFilter(parseResult, clock.GetUtcNow());
                if (filter.Type is null)
                {
                    filter = filter with { Type = await OnlyTypeAsync(connection, filter, cancellationToken).ConfigureAwait(false) };
                }

                data = await connection.RequestAsync((client, ct) => client.MergeProfilesAsync(filter, ct), cancellationToken, QueryOptions.NothingFound(filter)).ConfigureAwait(false);
            }

            var profile = ProfileDecoder.Decode(data);
            var wanted = parseResult.GetValue(sampleIndex);
            if (wanted is not null && !profile.SampleTypes.Exists(t => t.Type == wanted))
            {
                throw new CliUsageException($"--sample-index \"{wanted}\": the profile has no such sample type; choose one of: {string.Join(", ", profile.SampleTypes.Select(t => t.Type))}");
            }

            var index = SampleTypeIndex.Resolve(profile, wanted);
            var table = TopTableBuilder.Build(profile, index, FrameNaming.ByBinary);
            await parseResult.InvocationConfiguration.Output.WriteAsync(Format(profile, profile.SampleTypes[index], table, count)).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>The one profile type the service has in the time range; more than one must be chosen with --type.</summary>
    private static async Task<string> OnlyTypeAsync(CollectorConnection connection, ProfileFilter filter, CancellationToken cancellationToken)
    {
        var profiles = await connection.Client.FindProfilesAsync(filter, cancellationToken).ConfigureAwait(false);
        var types = profiles.Select(p => p.Type).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (types.Count == 0)
        {
            await connection.EnsureCollectorAsync(cancellationToken).ConfigureAwait(false);
            throw new CliUsageException(QueryOptions.NothingFound(filter));
        }

        return types.Count == 1
            ? types[0]
            : throw new CliUsageException($"service \"{filter.Service}\" has {string.Join(", ", types)} profiles in the time range: choose one with --type");
    }

    /// <summary>The table as go tool pprof -top prints it: a header, then flat, flat%, sum%, cum, cum%, name.</summary>
    public static string Format(Profile profile, SampleType sampleType, TopTable table, int nodeCount)
    {
        var unit = sampleType.Unit;
        var text = new StringBuilder();
        text.Append("Type: ").Append(sampleType.Type).Append('\n');
        if (profile.TimeNanos > 0)
        {
            var time = DateTimeOffset.FromUnixTimeMilliseconds(profile.TimeNanos / 1_000_000).UtcDateTime;
            text.Append("Time: ").Append(time.ToString("MMM d, yyyy 'at' h:mmtt '(UTC)'", CultureInfo.InvariantCulture).Replace("AM", "am", StringComparison.Ordinal).Replace("PM", "pm", StringComparison.Ordinal)).Append('\n');
        }

        if (profile.DurationNanos > 0)
        {
            text.Append("Duration: ").Append(FormatValue(profile.DurationNanos, "nanoseconds"));
            if (unit == "nanoseconds")
            {
                var share = 100.0 * table.Total / profile.DurationNanos;
                text.Append(", Total samples = ").Append(FormatValue(table.Total, unit)).Append(" (").Append(Percent(share)).Append(')');
            }

            text.Append('\n');
        }

        var entries = table.Rows;
        var shown = nodeCount == 0 ? entries.Count : Math.Min(nodeCount, entries.Count);
        long shownFlat = 0;
        for (var i = 0; i < shown; i++)
        {
            shownFlat += entries[i].Flat;
        }

        text.Append("Showing nodes accounting for ").Append(FormatValue(shownFlat, unit)).Append(", ")
            .Append(Percent(Share(shownFlat, table.Total))).Append(" of ").Append(FormatValue(table.Total, unit)).Append(" total\n");
        if (shown < entries.Count)
        {
            text.Append("Showing top ").Append(shown).Append(" nodes out of ").Append(entries.Count).Append('\n');
        }

        text.Append("      flat  flat%   sum%        cum   cum%\n");
        long sum = 0;
        for (var i = 0; i < shown; i++)
        {
            var entry = entries[i];
            sum += entry.Flat;
            text.Append(FormatValue(entry.Flat, unit).PadLeft(10)).Append(' ')
                .Append(Percent(Share(entry.Flat, table.Total)).PadLeft(6)).Append(' ')
                .Append(Percent(Share(sum, table.Total)).PadLeft(6)).Append(' ')
                .Append(FormatValue(entry.Cum, unit).PadLeft(10)).Append(' ')
                .Append(Percent(Share(entry.Cum, table.Total)).PadLeft(6)).Append("  ")
                .Append(entry.Name).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>A value in its unit, scaled as pprof scales it: 1.47s, 350ms, 26.01MB, 12.</summary>
    public static string FormatValue(long value, string unit)
    {
        double scaled = value;
        string suffix;
        switch (unit)
        {
            case "nanoseconds":
                (scaled, suffix) = Math.Abs(value) switch
                {
                    >= 1_000_000_000L * 3600 => (value / 3.6e12, "hrs"),
                    >= 1_000_000_000L * 60 => (value / 6e10, "mins"),
                    >= 1_000_000_000 => (value / 1e9, "s"),
                    >= 1_000_000 => (value / 1e6, "ms"),
                    >= 1_000 => (value / 1e3, "us"),
                    _ => (value, "ns"),
                };
                break;
            case "bytes":
                (scaled, suffix) = Math.Abs(value) switch
                {
                    >= 1L << 40 => (value / (double)(1L << 40), "TB"),
                    >= 1L << 30 => (value / (double)(1L << 30), "GB"),
                    >= 1L << 20 => (value / (double)(1L << 20), "MB"),
                    >= 1L << 10 => (value / (double)(1L << 10), "kB"),
                    _ => (value, "B"),
                };
                break;
            default:
                return value.ToString(CultureInfo.InvariantCulture);
        }

        var number = scaled.ToString("0.00", CultureInfo.InvariantCulture);
        if (number.EndsWith(".00", StringComparison.Ordinal))
        {
            number = number[..^3];
        }

        return number + suffix;
    }

    private static double Share(long value, long total) => total == 0 ? 0 : 100.0 * value / total;

    private static string Percent(double share) => share.ToString("0.00", CultureInfo.InvariantCulture) + "%";
}
