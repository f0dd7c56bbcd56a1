using BenchmarkDotNet.Attributes;
using Profefe.Pprof;
using Profefe.Pprof.Proto;

namespace Profefe.Benchmarks;

/// <summary>
/// What the collector does to every pushed profile before storing it, on the ~10 KB CPU profile the load
/// driver pushes (issue 3): the parts (inflate, CRC-32) and the whole check.
/// </summary>
[Config(typeof(InProcessShortConfig))]
public class IngestBenchmarks
{
    private byte[] _gzip = [];
    private byte[] _raw = [];

    [GlobalSetup]
    public void Setup()
    {
        _gzip = BenchmarkData.Read("go/cpu_hash_02.pb.gz");
        _raw = BenchmarkData.Gunzip(_gzip);
    }

    [Benchmark]
    public int Inflate()
    {
        var buffer = GzipInflater.Inflate(_gzip, 64L * 1024 * 1024, null, out var length);
        GzipInflater.Return(buffer, null);
        return length;
    }

    [Benchmark]
    public uint Crc32OfInflated() => System.IO.Hashing.Crc32.HashToUInt32(_raw);

    [Benchmark(Baseline = true)]
    public Profile DecodeGzip() => ProfileDecoder.Decode(_gzip);

    [Benchmark]
    public Profile DecodeRaw() => ProfileDecoder.Decode(_raw);

    [Benchmark]
    public ProfileValidation ValidateGzip() => ProfileDecoder.Validate(_gzip);

    [Benchmark]
    public bool ScanRaw() => ProfileProtoScanner.TryScan(_raw, ProfileDecoderOptions.Default, out _);
}
