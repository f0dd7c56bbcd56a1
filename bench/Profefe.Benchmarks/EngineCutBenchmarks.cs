using BenchmarkDotNet.Attributes;
using Profefe.Core.Engine;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Engine.Symbols;
using Profefe.Core.Profiles;
using Profefe.Pprof;

namespace Profefe.Benchmarks;

/// <summary>
/// What the engine's block cutter does for every pushed profile (issue 13, acceptance 5), on the load driver's
/// ~10 KB Go CPU profile: decode it, turn it into a row against its service's symbols (a table that already
/// holds them, as for every push after an agent's first), and encode a block of a cut's rows of one series.
/// <c>DecodeAndSymbolize</c> is the cutter's way (names decoded into a shared pool, one symbolizer per table);
/// <c>DecodeAndSymbolizeUnshared</c> is how it was before (a fresh symbolizer and fresh strings per profile).
/// </summary>
[Config(typeof(InProcessShortConfig))]
public class EngineCutBenchmarks
{
    private const int RowsPerBlock = 12;

    private static readonly DateTime CreatedAt = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private byte[] _gzip = [];
    private Profile _profile = new();
    private SymbolTable _table = new();
    private ProfileRow[] _rows = [];
    private ProfileSymbolizer _symbolizer = null!;
    private ProfileDecoderOptions _pooled = ProfileDecoderOptions.Default;

    [GlobalSetup]
    public void Setup()
    {
        _gzip = BenchmarkData.Read("go/cpu_hash_02.pb.gz");
        _profile = ProfileDecoder.Decode(_gzip);
        _table = new SymbolTable();
        _rows = new ProfileRow[RowsPerBlock];
        for (var i = 0; i < _rows.Length; i++)
        {
            _rows[i] = new ProfileSymbolizer(_table).Symbolize(_profile, ProfileId.NewId(CreatedAt.AddSeconds(i)), CreatedAt.AddSeconds(i));
        }

        _table.MarkDurable();
        _symbolizer = new ProfileSymbolizer(_table);
        _pooled = new ProfileDecoderOptions { StringPool = new ProfileStringPool() };
    }

    [Benchmark]
    public Profile Decode() => ProfileDecoder.Decode(_gzip);

    [Benchmark]
    public Profile DecodePooled() => ProfileDecoder.Decode(_gzip, _pooled);

    [Benchmark]
    public ProfileRow Symbolize() => _symbolizer.Symbolize(_profile, ProfileId.NewId(CreatedAt), CreatedAt);

    [Benchmark]
    public ProfileRow DecodeAndSymbolize() => _symbolizer.Symbolize(ProfileDecoder.Decode(_gzip, _pooled), ProfileId.NewId(CreatedAt), CreatedAt);

    [Benchmark(Baseline = true)]
    public ProfileRow DecodeAndSymbolizeUnshared() => new ProfileSymbolizer(_table).Symbolize(ProfileDecoder.Decode(_gzip), ProfileId.NewId(CreatedAt), CreatedAt);

    [Benchmark(OperationsPerInvoke = RowsPerBlock)]
    public byte[] EncodeBlock() => ProfileBlockCodec.Encode(_rows);
}
