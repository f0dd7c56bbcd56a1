using System.Globalization;

namespace Profefe.AgentOverhead;

internal sealed record BenchOptions(TimeSpan Phase, int Threads, int Repeat, Uri Collector)
{
    public static BenchOptions Parse(string[] args)
    {
        var phase = TimeSpan.FromSeconds(60);
        var threads = Environment.ProcessorCount;
        var repeat = 1;

        // Nobody listens there: uploads fail and are retried, which costs next to nothing.
        var collector = new Uri("http://127.0.0.1:9/");
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--phase":
                    phase = TimeSpan.FromSeconds(double.Parse(args[i + 1].TrimEnd('s'), CultureInfo.InvariantCulture));
                    break;
                case "--threads":
                    threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--repeat":
                    repeat = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--collector":
                    collector = new Uri(args[i + 1]);
                    break;
                default:
                    throw new ArgumentException("unknown option " + args[i]);
            }
        }

        return new BenchOptions(phase, threads, repeat, collector);
    }
}
