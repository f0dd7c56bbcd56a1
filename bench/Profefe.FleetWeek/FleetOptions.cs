using System.Globalization;

namespace Profefe.FleetWeek;

/// <summary>How big a fleet and week to build and how often to repeat each query; parsed from the command line.</summary>
internal sealed record FleetOptions
{
    public const string Usage = """
        usage: Profefe.FleetWeek [options]
          --days N              days of profiles, one per pod per minute (default 7; 1 for a quick check)
          --pods N              pods of the one service, labelled pod=p0 … (default 10)
          --clients N           concurrent push clients (default 8)
          --runs N              timed repetitions of each query after a first, cold one (default 5)
          --collector-dll PATH  profefe.dll to start (default: the one built next to this bench)
          --browser             also time the UI drawing the week's series by pod and merged flame graph in /usr/bin/chromium
          --drop-raw            then restart with Retention:RawPeriod=1s, wait for the raw bytes to go, weigh and time again
          --keep                keep the data directory and collector log (the path is printed)
        """;

    public int Days { get; init; } = 7;

    public int Pods { get; init; } = 10;

    public int Clients { get; init; } = 8;

    public int Runs { get; init; } = 5;

    public string? CollectorDll { get; init; }

    public bool Keep { get; init; }

    public bool DropRaw { get; init; }

    public bool Browser { get; init; }

    /// <exception cref="ArgumentException">an unknown option or a bad value.</exception>
    public static FleetOptions Parse(IReadOnlyList<string> args)
    {
        var options = new FleetOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            options = name switch
            {
                "--days" => options with { Days = Count(args, ref i, 1, 31) },
                "--pods" => options with { Pods = Count(args, ref i, 1, 1_000) },
                "--clients" => options with { Clients = Count(args, ref i, 1, 256) },
                "--runs" => options with { Runs = Count(args, ref i, 1, 1_000) },
                "--collector-dll" => options with { CollectorDll = Value(args, ref i) },
                "--keep" => options with { Keep = true },
                "--drop-raw" => options with { DropRaw = true },
                "--browser" => options with { Browser = true },
                "-h" or "--help" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown option {name}\n{Usage}"),
            };
        }

        return options;
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count)
        {
            throw new ArgumentException($"{args[i]} needs a value");
        }

        return args[++i];
    }

    private static int Count(IReadOnlyList<string> args, ref int i, int minimum, int maximum)
    {
        var name = args[i];
        var text = Value(args, ref i);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
            ? value
            : throw new ArgumentException($"{name} needs a whole number from {minimum} to {maximum}, not \"{text}\"");
    }
}
