using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using Profefe.Pprof;

namespace Profefe.Benchmarks;

/// <summary>
/// Encoding: raw proto, gzip at the level the encoder uses (Fastest), and gzip at Optimal for comparison.
/// The setup prints the output size of each, the other half of the Fastest-vs-Optimal trade.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 5)]
public sealed class EncodeBenchmarks : IDisposable
{
    private Profile _profile = new();
    private byte[] _raw = [];
    private readonly MemoryStream _output = new();

    [Params("go/big_cpu_01.pb.gz", "go/big_heap_01.pb.gz", "pprof-thirdparty/parca/pkg__query__testdata__profile-with-labels.pb.gz")]
    public string File { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _profile = ProfileDecoder.Decode(BenchmarkData.Read(File));
        _raw = ProfileEncoder.EncodeToArray(_profile, compress: false);
        var fastest = ProfileEncoder.EncodeToArray(_profile);
        Console.WriteLine($"// {File}: raw {_raw.Length} B, gzip Fastest {fastest.Length} B, gzip Optimal {GzipOptimal().Length} B");
    }

    public void Dispose() => _output.Dispose();

    [Benchmark(Baseline = true)]
    public long EncodeRaw()
    {
        _output.SetLength(0);
        ProfileEncoder.Encode(_profile, _output, compress: false);
        return _output.Length;
    }

    [Benchmark]
    public long EncodeGzipFastest()
    {
        _output.SetLength(0);
        ProfileEncoder.Encode(_profile, _output);
        return _output.Length;
    }

    [Benchmark]
    public long EncodeGzipOptimal() => GzipOptimal().Length;

    private byte[] GzipOptimal()
    {
        _output.SetLength(0);
        ProfileEncoder.Encode(_profile, _output, compress: false);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal))
        {
            gzip.Write(_output.GetBuffer(), 0, (int)_output.Length);
        }

        return compressed.ToArray();
    }
}
