using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Profefe.Pprof;

namespace Profefe.Benchmarks;

/// <summary>
/// Decoding throughput. "Raw MB/s" is megabytes (10^6) of uncompressed profile.proto per second, for
/// both the raw and the gzip input (so the gzip row shows what inflating costs on top).
/// </summary>
[Config(typeof(ThroughputConfig))]
public class DecodeBenchmarks
{
    private byte[] _gzip = [];
    private byte[] _raw = [];

    [Params("go/big_cpu_01.pb.gz", "go/big_heap_01.pb.gz", "pprof-thirdparty/parca/pkg__query__testdata__profile-with-labels.pb.gz")]
    public string File { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _gzip = BenchmarkData.Read(File);
        _raw = BenchmarkData.Gunzip(_gzip);
    }

    [Benchmark(Baseline = true)]
    public Profile DecodeRaw() => ProfileDecoder.Decode(_raw);

    [Benchmark]
    public Profile DecodeGzip() => ProfileDecoder.Decode(_gzip);

    private sealed class ThroughputConfig : InProcessShortConfig
    {
        public ThroughputConfig() => AddColumn(new RawThroughputColumn());
    }

    private sealed class RawThroughputColumn : IColumn
    {
        private static readonly Dictionary<string, long> RawSizes = [];

        public string Id => "RawMBps";

        public string ColumnName => "Raw MB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Megabytes (10^6) of uncompressed profile.proto decoded per second";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is not { } statistics || benchmarkCase.Parameters["File"] is not string file)
            {
                return "-";
            }

            if (!RawSizes.TryGetValue(file, out var size))
            {
                size = BenchmarkData.Gunzip(BenchmarkData.Read(file)).Length;
                RawSizes[file] = size;
            }

            return (size / 1e6 / (statistics.Mean / 1e9)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
