using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using Profefe.Pprof;

namespace Profefe.Benchmarks;

/// <summary>
/// Encoding: raw proto, gzip at the level the encoder uses (Fastest), and gzip at Optimal for comparison.
/// The setup prints the output size of each, the other half of the Fastest-vs-Optimal trade.
/// </summary>
[Config(typeof(InProcessShortConfig))]
public class EncodeBenchmarks
{
    private Profile _profile = new();

    [Params("go/big_cpu_01.pb.gz", "go/big_heap_01.pb.gz", "pprof-thirdparty/parca/pkg__query__testdata__profile-with-labels.pb.gz")]
    public string File { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _profile = ProfileDecoder.Decode(BenchmarkData.Read(File));
        var raw = ProfileEncoder.EncodeToArray(_profile, compress: false);
        var fastest = ProfileEncoder.EncodeToArray(_profile);
        Console.WriteLine($"// {File}: raw {raw.Length} B, gzip Fastest {fastest.Length} B, gzip Optimal {GzipOptimal(raw).Length} B");
    }

    [Benchmark(Baseline = true)]
    public void EncodeRaw() => ProfileEncoder.Encode(_profile, Stream.Null, compress: false);

    [Benchmark]
    public void EncodeGzipFastest() => ProfileEncoder.Encode(_profile, Stream.Null);

    [Benchmark]
    public int EncodeGzipOptimal() => GzipOptimal(ProfileEncoder.EncodeToArray(_profile, compress: false)).Length;

    private static byte[] GzipOptimal(byte[] raw)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal))
        {
            gzip.Write(raw);
        }

        return compressed.ToArray();
    }
}
