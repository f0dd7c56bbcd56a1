using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Profefe.Pprof;

namespace Profefe.Benchmarks;

/// <summary>
/// Merging 1,000 CPU profiles: the corpus' go/cpu_* files, each repeated 50 times. Figures are per merged
/// profile (OperationsPerInvoke), so the allocation column reads as bytes allocated per profile.
/// bench/merge-vs-go.sh measures the same merge as a process beside go tool pprof (wall time, peak RSS).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortInProcessConfig))]
public class MergeBenchmarks
{
    private const int Profiles = 1000;

    private byte[][] _files = [];
    private Profile[] _decoded = [];

    [GlobalSetup]
    public void Setup()
    {
        var directory = Path.Combine(FindTestData(), "go");
        var names = Directory.GetFiles(directory, "cpu_*.pb.gz");
        Array.Sort(names, StringComparer.Ordinal);
        _files = new byte[Profiles][];
        _decoded = new Profile[Profiles];
        var distinct = new Profile[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            distinct[i] = ProfileDecoder.Decode(File.ReadAllBytes(names[i]));
        }

        for (var i = 0; i < Profiles; i++)
        {
            _files[i] = File.ReadAllBytes(names[i % names.Length]);
            _decoded[i] = distinct[i % names.Length];
        }
    }

    /// <summary>What the collector's merge endpoint does: decode each stored file, merge, encode the result.</summary>
    [Benchmark(OperationsPerInvoke = Profiles)]
    public long DecodeMergeEncode()
    {
        var merger = new ProfileMerger();
        foreach (var file in _files)
        {
            merger.Add(ProfileDecoder.Decode(file));
        }

        using var output = new CountingStream();
        ProfileEncoder.Encode(merger.ToProfile(), output);
        return output.Length;
    }

    /// <summary>The merge alone, over profiles decoded beforehand.</summary>
    [Benchmark(OperationsPerInvoke = Profiles)]
    public int MergeOnly()
    {
        var merger = new ProfileMerger();
        foreach (var profile in _decoded)
        {
            merger.Add(profile);
        }

        return merger.ToProfile().Samples.Count;
    }

    /// <summary>The decode alone, to tell how much of the first figure is the decoder's.</summary>
    [Benchmark(OperationsPerInvoke = Profiles)]
    public int DecodeOnly()
    {
        var samples = 0;
        foreach (var file in _files)
        {
            samples += ProfileDecoder.Decode(file).Samples.Count;
        }

        return samples;
    }

    // BenchmarkDotNet runs the benchmark from its own build folder, so the source file's location is tried too.
    private static string FindTestData([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "" })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "test", "testdata");
                if (Directory.Exists(Path.Combine(candidate, "go")))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException("test/testdata not found; run from the repository");
    }

    /// <summary>
    /// A few one-second iterations, in this process: building a separate benchmark project on the shared
    /// 2-core machine runs past BenchmarkDotNet's build timeout.
    /// </summary>
    public sealed class ShortInProcessConfig : ManualConfig
    {
        public ShortInProcessConfig()
        {
            AddJob(Job.Default
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(2)
                .WithIterationCount(5)
                .WithToolchain(InProcessEmitToolchain.Instance));
        }
    }

    // Discards what is written, keeping only the count, so encoding is measured without a growing buffer.
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position
        {
            get => _length;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }
}
