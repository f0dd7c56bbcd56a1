using System.Globalization;
using Profefe.Soak;

if (args.Contains("--help"))
{
    Console.WriteLine("""
        Profefe.Soak: every attack of issue 16 against a collector in a memory-limited cgroup, while well-behaved clients push and query.
          --minutes N          how long the attacks run in all (default 4; each attack gets an equal share)
          --memory-gib N       the cgroup's memory limit (default 4)
          --collector-dll PATH another profefe.dll to start (default: the one built with the soak)
        Needs root (it creates a child cgroup); listens and connects on 127.0.0.1 only.
        """);
    return 0;
}

string? Value(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

var options = new SoakOptions(
    TimeSpan.FromMinutes(double.Parse(Value("--minutes") ?? "4", CultureInfo.InvariantCulture)),
    (long)(double.Parse(Value("--memory-gib") ?? "4", CultureInfo.InvariantCulture) * (1L << 30)),
    Value("--collector-dll"));
return await SoakRun.RunAsync(options);
