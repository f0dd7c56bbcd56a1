using System.Globalization;

namespace Profefe.LoadDriver;

/// <summary>What to measure and against which collector; parsed from the command line.</summary>
internal sealed record LoadOptions
{
    public const string Usage = """
        usage: Profefe.LoadDriver [options]
          --quick               small smoke run (1,000 / 5,000 stored profiles, 2 find runs)
          --url URL             measure an already running collector (no RSS; bytes on disk only with --data-dir)
          --data-dir PATH       with --url: the collector's data directory
          --server-pid PID      with --url: the collector's process, to report its CPU (and, with --ingest-only,
                                the work it does after the last push until it idles)
          --backend NAME=P,P    a storage server's processes (PostgreSQL's postmaster, Ceph's daemons) whose CPU,
                                with their descendants', each ingest step reports beside the collector's; repeatable
          --collector-dll PATH  profefe.dll to start (default: the one built next to this driver)
          --profile PATH        profile to push (default: test/testdata/go/cpu_hash_02.pb.gz)
          --clients N           concurrent ingest clients (default 8)
          --small N             profiles stored before the first find round (default 10000)
          --large N             profiles stored before the second find round (default 100000)
          --budget SECONDS      stop the second ingest after this long, storing fewer (default 360)
          --runs N              find and merge repetitions; the median is reported (default 5 finds, 3 merges)
          --ingest-only         warm-up and the two ingest steps only, for a collector that keeps nothing
                                (bench/Profefe.IngestCeiling)
        """;

    public Uri? Url { get; init; }

    public string? DataDirectory { get; init; }

    public int? ServerPid { get; init; }

    public IReadOnlyList<(string Name, int[] Pids)> Backends { get; init; } = [];

    public string? CollectorDll { get; init; }

    public string? ProfilePath { get; init; }

    public int Clients { get; init; } = 8;

    public int SmallStore { get; init; } = 10_000;

    public int LargeStore { get; init; } = 100_000;

    public int FindRuns { get; init; } = 5;

    public int MergeRuns { get; init; } = 3;

    // Long enough for the collector's JIT to reach optimized code (a few seconds under load): the ingest
    // figures are the steady state of a running collector; the warm-up's own rate is reported beside them.
    public int WarmupRequests { get; init; } = 5_000;

    /// <summary>Keeps a run on a slow or busy machine bounded: the second fill stops after this long.</summary>
    public TimeSpan LargeIngestBudget { get; init; } = TimeSpan.FromSeconds(360);

    public bool Quick { get; init; }

    /// <summary>No finds, merges or bytes on disk: the target keeps nothing it is sent.</summary>
    public bool IngestOnly { get; init; }

    /// <exception cref="ArgumentException">an unknown option or a bad value.</exception>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            options = name switch
            {
                "--quick" => options with { Quick = true, SmallStore = 1_000, LargeStore = 5_000, FindRuns = 2, MergeRuns = 1, WarmupRequests = 200 },
                "--url" => options with { Url = new Uri(Value(args, ref i), UriKind.Absolute) },
                "--data-dir" => options with { DataDirectory = Value(args, ref i) },
                "--server-pid" => options with { ServerPid = Count(args, ref i, 1) },
                "--backend" => options with { Backends = [.. options.Backends, Backend(args, ref i)] },
                "--collector-dll" => options with { CollectorDll = Value(args, ref i) },
                "--profile" => options with { ProfilePath = Value(args, ref i) },
                "--clients" => options with { Clients = Count(args, ref i, 1) },
                "--small" => options with { SmallStore = Count(args, ref i, 1_000) },
                "--large" => options with { LargeStore = Count(args, ref i, 5_000) },
                "--budget" => options with { LargeIngestBudget = TimeSpan.FromSeconds(Count(args, ref i, 10)) },
                "--runs" => Count(args, ref i, 1) is var runs ? options with { FindRuns = runs, MergeRuns = runs } : options,
                "--ingest-only" => options with { IngestOnly = true },
                "-h" or "--help" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown option {name}\n{Usage}"),
            };
        }

        return options.LargeStore < options.SmallStore
            ? throw new ArgumentException($"--large ({options.LargeStore}) must not be below --small ({options.SmallStore})")
            : options;
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count)
        {
            throw new ArgumentException($"{args[i]} needs a value");
        }

        return args[++i];
    }

    private static (string Name, int[] Pids) Backend(IReadOnlyList<string> args, ref int i)
    {
        var option = args[i];
        var text = Value(args, ref i);
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var pids = new List<int>();
        foreach (var part in text[(equals + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            pids.Add(int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 1 ? pid : 0);
        }

        return equals > 0 && pids.Count > 0 && !pids.Contains(0)
            ? (text[..equals], [.. pids])
            : throw new ArgumentException($"{option} takes NAME=PID,PID..., not \"{text}\"");
    }

    private static int Count(IReadOnlyList<string> args, ref int i, int minimum)
    {
        var name = args[i];
        var text = Value(args, ref i);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw new ArgumentException($"{name} needs a whole number of at least {minimum}, not \"{text}\"");
    }
}
