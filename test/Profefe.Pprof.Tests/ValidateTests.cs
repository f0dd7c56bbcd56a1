using Profefe.Pprof.Proto;
using Profefe.Testing;

namespace Profefe.Pprof.Tests;

/// <summary>
/// <see cref="ProfileDecoder.Validate"/> must accept and reject exactly what <see cref="ProfileDecoder.Decode(ReadOnlySpan{byte}, ProfileDecoderOptions?, out bool, out bool)"/>
/// does, with the same message, and its model-free scan must never accept what the decoder would reject
/// or rewrite: checked over every corpus file and over seeded mutants of the corpus.
/// </summary>
public sealed class ValidateTests
{
    private const int Seed = 0x5CA2_2026;
    private const int Cases = 12_000;

    private static readonly ProfileDecoderOptions Options = new() { MaxDecompressedBytes = 8 * 1024 * 1024 };

    [Fact]
    public void Validate_AgreesWithDecode_ForEveryCorpusFile()
    {
        var scanned = 0;
        foreach (var entry in CorpusManifest.Entries)
        {
            var data = TestData.Read(entry.File);
            var outcome = Compare(data);
            Assert.True(outcome.Failure is null, $"{entry.File}: {outcome.Failure}");
            scanned += outcome.Scanned ? 1 : 0;
        }

        // The scan is the point: most of the accepted profile.proto files must take it.
        var acceptedProto = CorpusManifest.AcceptedProto.Count();
        Assert.True(scanned * 2 > acceptedProto, $"only {scanned} of {acceptedProto} accepted proto files were scanned without decoding");
    }

    [Theory]
    [InlineData("go/cpu_hash_02.pb.gz")]
    [InlineData("go/heap_03.pb.gz")]
    [InlineData("go/goroutine_05.pb.gz")]
    public void Validate_TakesTheScan_ForGoRuntimeProfiles(string file)
    {
        var raw = MutationTests.Gunzip(TestData.Read(file));

        var scanned = ProfileProtoScanner.TryScan(raw, ProfileDecoderOptions.Default, out var validation);

        Assert.True(scanned);
        var decoded = ProfileDecoder.Decode(raw);
        Assert.Equal(decoded.TimeNanos, validation.TimeNanos);
        Assert.Equal(decoded.Samples.Count, validation.SampleCount);
        Assert.Equal(decoded.SampleTypes.Select(static t => t.Type), validation.SampleTypes);
        Assert.Null(ProfileDecoder.Validate(TestData.Read(file)).Normalized);
    }

    [Fact]
    public void Validate_ReturnsRenumberedProfile_WhenIdsAreZero()
    {
        using var builder = ProtoBuilder.Minimal(functionId: 0, locationId: 0, lineFunctionId: 0, sampleLocationId: 0);

        var validation = ProfileDecoder.Validate(builder.ToArray());

        Assert.NotNull(validation.Normalized);
        Assert.Equal(1ul, validation.Normalized.Locations[0].Id);
        Assert.Null(ProfileValidator.FindProblem(validation.Normalized));
    }

    [Theory]
    [InlineData(1ul, 1ul, 1ul, 1ul, 3L, true)] // ids 1..N: the scan decides
    [InlineData(7ul, 5ul, 7ul, 5ul, 3L, false)] // valid ids out of order: left to the decoder, kept as is
    [InlineData(0ul, 0ul, 0ul, 0ul, 3L, false)] // renumbered
    [InlineData(1ul, 1ul, 1ul, 2ul, 3L, false)] // unknown location
    [InlineData(1ul, 1ul, 2ul, 1ul, 3L, false)] // unknown function
    [InlineData(1ul, 1ul, 0ul, 1ul, 3L, false)] // function id 0 in a line
    [InlineData(1ul, 1ul, 1ul, 0ul, 3L, false)] // location id 0 in a sample
    [InlineData(1ul, 1ul, 1ul, 1ul, 5L, false)] // string index past the table
    [InlineData(1ul, 1ul, 1ul, 1ul, -1L, false)] // negative string index
    public void Validate_AgreesWithDecode_ForCraftedProfiles(ulong functionId, ulong locationId, ulong lineFunctionId, ulong sampleLocationId, long nameIndex, bool scanned)
    {
        using var builder = ProtoBuilder.Minimal(functionId, locationId, lineFunctionId, sampleLocationId, nameIndex);
        var data = builder.ToArray();

        var outcome = Compare(data);

        Assert.Null(outcome.Failure);
        Assert.Equal(scanned, ProfileProtoScanner.TryScan(data, ProfileDecoderOptions.Default, out _));
    }

    [Fact]
    public void Validate_AgreesWithDecode_ForProfileWithoutSamples()
    {
        using var builder = new ProtoBuilder();
        builder.Message(1, m => m.Varint(1, 1).Varint(2, 2)).String(6, "").String(6, "samples").String(6, "count");
        var data = builder.ToArray();

        Assert.Null(Compare(data).Failure);
        Assert.False(ProfileProtoScanner.TryScan(data, ProfileDecoderOptions.Default, out _));
        Assert.True(ProfileProtoScanner.TryScan(data, ProfileDecoderOptions.Default with { RequireSamples = false }, out _));
    }

    [Fact]
    public void Validate_AgreesWithDecode_ForMutatedCorpus()
    {
        var gzipped = MutationTests.Files.Select(TestData.Read).ToArray();
        var raw = gzipped.Select(MutationTests.Gunzip).ToArray();
        var random = new Random(Seed);
        int scanned = 0, accepted = 0, rejected = 0;
        for (var i = 0; i < Cases; i++)
        {
            var input = MutationTests.Mutate(random, i % 4 == 0 ? gzipped : raw);
            var outcome = Compare(input);
            Assert.True(outcome.Failure is null, $"mutant {i} (seed {Seed}, starts {Convert.ToHexString(input, 0, Math.Min(32, input.Length))}): {outcome.Failure}");
            scanned += outcome.Scanned ? 1 : 0;
            accepted += outcome.Accepted ? 1 : 0;
            rejected += outcome.Accepted ? 0 : 1;
        }

        Assert.True(scanned > 0 && accepted > scanned && rejected > 0, $"scanned {scanned}, accepted {accepted}, rejected {rejected}: the mutants should exercise every path");
    }

    private static Outcome Compare(byte[] data)
    {
        Profile? decoded = null;
        bool renumbered = false, legacy = false;
        string? decodeError = null;
        try
        {
            decoded = ProfileDecoder.Decode(data, Options, out renumbered, out legacy);
        }
        catch (ProfileFormatException e)
        {
            decodeError = e.Message;
        }

        ProfileValidation? validation = null;
        string? validateError = null;
        try
        {
            validation = ProfileDecoder.Validate(data, Options);
        }
        catch (ProfileFormatException e)
        {
            validateError = e.Message;
        }

        // The scan on its own, on the bytes the decoder's proto reader sees.
        var proto = data;
        if (data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b)
        {
            try
            {
                proto = MutationTests.Gunzip(data);
            }
            catch (InvalidDataException)
            {
                proto = [];
            }
        }

        var scanned = proto.Length > 0 && decodeError is null && ProfileProtoScanner.TryScan(proto, Options, out _);
        if (decodeError is null && ProfileProtoScanner.TryScan(proto, Options, out var scannedValidation))
        {
            if (renumbered || legacy)
            {
                return new(true, true, $"the scan accepted what the decoder rewrote (renumbered {renumbered}, legacy {legacy})");
            }

            if (scannedValidation.TimeNanos != decoded!.TimeNanos)
            {
                return new(true, true, $"the scan read time_nanos {scannedValidation.TimeNanos}, the decoder {decoded.TimeNanos}");
            }
        }
        else if (decodeError is not null && proto.Length > 0 && !IsGzipError(decodeError) && ProfileProtoScanner.TryScan(proto, Options, out _))
        {
            return new(false, true, $"the scan accepted what the decoder rejected: {decodeError}");
        }

        if (decodeError != validateError)
        {
            return new(decodeError is null, scanned, $"Decode: {decodeError ?? "accepted"}; Validate: {validateError ?? "accepted"}");
        }

        if (decoded is not null)
        {
            if (validation!.Value.TimeNanos != decoded.TimeNanos)
            {
                return new(true, scanned, $"time_nanos: Decode {decoded.TimeNanos}, Validate {validation.Value.TimeNanos}");
            }

            if ((validation.Value.Normalized is not null) != (renumbered || legacy))
            {
                return new(true, scanned, $"Validate rewrote: {validation.Value.Normalized is not null}; Decode renumbered {renumbered}, legacy {legacy}");
            }
        }

        return new(decoded is not null, scanned, null);
    }

    // Gzip errors come before any parsing, so the scan never sees such data in Validate.
    private static bool IsGzipError(string message) => message.StartsWith("decompressing profile:", StringComparison.Ordinal);

    private readonly record struct Outcome(bool Accepted, bool Scanned, string? Failure);
}
