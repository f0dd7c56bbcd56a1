using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Profefe.Benchmarks;

/// <summary>
/// One launch, 3 warmups, 5 iterations, in the benchmark process itself: on the shared 2-core machine,
/// generating and building a separate benchmark project regularly runs past BenchmarkDotNet's build timeout.
/// </summary>
public class InProcessShortConfig : ManualConfig
{
    public InProcessShortConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(5)
            .WithToolchain(InProcessEmitToolchain.Instance));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
