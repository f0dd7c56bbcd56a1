using System.CommandLine;
using System.Globalization;
using Profefe.Cli.Arguments;
using Profefe.Client;

namespace Profefe.Cli.Commands;

/// <summary>The options that select stored profiles (--service, --type, --from, --to, --label, --limit), shared by find, merge and top.</summary>
internal sealed class QueryOptions
{
    private readonly Option<string?> _service;
    private readonly Option<string?> _type;
    private readonly Option<string> _from;
    private readonly Option<string> _to;
    private readonly Option<string[]> _labels;
    private readonly Option<int> _limit;

    public QueryOptions(Command command, bool serviceRequired, bool typeRequired, string typeDefault = "all")
    {
        _service = new Option<string?>("--service", "-s") { Description = "The service whose profiles to select", HelpName = "NAME", Required = serviceRequired };
        _type = new Option<string?>("--type", "-t")
        {
            Description = "The profile type: cpu, heap, block, mutex, goroutine, threadcreate, trace, other" + (typeRequired ? "" : $" (default: {typeDefault})"),
            HelpName = "TYPE",
            Required = typeRequired,
        };
        _from = new Option<string>("--from") { Description = "Start of the time range: 2006-01-02T15:04:05 (UTC), RFC 3339, now, or an offset such as -1h, -30m, -7d", HelpName = "TIME", DefaultValueFactory = _ => "-1h" };
        _to = new Option<string>("--to") { Description = "End of the time range (same forms as --from)", HelpName = "TIME", DefaultValueFactory = _ => "now" };
        _labels = new Option<string[]>("--label", "-l") { Description = "Only profiles with this label (repeatable)", HelpName = "KEY=VALUE", AllowMultipleArgumentsPerToken = false };
        _limit = new Option<int>("--limit") { Description = "Only the N most recent profiles (0: all)", HelpName = "N" };
        command.Options.Add(_service);
        command.Options.Add(_type);
        command.Options.Add(_from);
        command.Options.Add(_to);
        command.Options.Add(_labels);
        command.Options.Add(_limit);
    }

    /// <summary>What to tell the user when <paramref name="filter"/> matches nothing.</summary>
    public static string NothingFound(ProfileFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var what = filter.Type is null ? "profiles" : filter.Type + " profiles";
        var labels = filter.Labels is { Count: > 0 } list ? " labelled " + string.Join(",", list.Select(l => l.Key + "=" + l.Value)) : "";
        return $"no {what} of service \"{filter.Service}\"{labels} from {Format(filter.From)} to {Format(filter.To)}: "
            + "a profile's created_at is the time it was taken (recorded in the profile), so widen --from/--to for older ones";
    }

    public bool HasService(ParseResult parseResult) => !string.IsNullOrWhiteSpace(parseResult.GetValue(_service));

    public ProfileFilter ReadFilter(ParseResult parseResult, DateTimeOffset now)
    {
        var service = parseResult.GetValue(_service);
        if (string.IsNullOrWhiteSpace(service))
        {
            throw new CliUsageException("--service is required");
        }

        var from = TimeArgument.Parse(parseResult.GetValue(_from) ?? "-1h", now);
        var to = TimeArgument.Parse(parseResult.GetValue(_to) ?? "now", now);
        if (from > to)
        {
            throw new CliUsageException($"--from ({from:u}) is after --to ({to:u})");
        }

        var limit = parseResult.GetValue(_limit);
        if (limit < 0)
        {
            throw new CliUsageException("--limit must not be negative");
        }

        var type = parseResult.GetValue(_type);
        return new ProfileFilter
        {
            Service = service.Trim(),
            Type = string.IsNullOrWhiteSpace(type) ? null : type.Trim(),
            From = from,
            To = to,
            Labels = LabelArgument.ParseAll(parseResult.GetValue(_labels)),
            Limit = limit == 0 ? null : limit,
        };
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
