using System.IO.Compression;
using Profefe.Testing;

namespace Profefe.Pprof.Tests;

/// <summary>
/// Seeded mutations of corpus files (bit flips, byte sets, truncations, splices, corrupted varints and
/// lengths, inserted and deleted chunks), on the gzip bytes and on the raw proto: every mutant either
/// decodes into a profile we can write and read back, or raises <see cref="ProfileFormatException"/>.
/// </summary>
public sealed class MutationTests
{
    private const int Seed = 0x5EED_2026;
    private const int Cases = 12_000;

    internal static readonly string[] Files =
    [
        "go/cpu_mix_02.pb.gz",
        "go/heap_03.pb.gz",
        "go/goroutine_05.pb.gz",
        "go/block_05.pb.gz",
        "go/mutex_02.pb.gz",
        "go/threadcreate_01.pb.gz",
        "profefe/collector_cpu_1.prof",
        "pprof-thirdparty/parca/pkg__query__testdata__profile-with-labels.pb.gz",
        "pprof-thirdparty/parca/pkg__normalizer__node-profile.pb.gz",
        "pprof-thirdparty/google-pprof/internal__driver__testdata__go.nomappings.crash",
    ];

    private static readonly ProfileDecoderOptions Options = new() { MaxDecompressedBytes = 8 * 1024 * 1024 };

    [Fact]
    public void Decode_ParsesOrThrowsProfileFormatException_ForMutatedCorpus()
    {
        var gzipped = Files.Select(TestData.Read).ToArray();
        var raw = gzipped.Select(Gunzip).ToArray();
        var random = new Random(Seed);
        int parsed = 0, rejected = 0, current = -1;
        Exception? failure = null;
        byte[]? failingInput = null;

        // A dedicated thread so that a hang is reported with the case that hung instead of stalling the run.
        var thread = new Thread(
            () =>
            {
                for (var i = 0; i < Cases; i++)
                {
                    current = i;
                    var onGzip = i % 4 == 0;
                    var corpus = onGzip ? gzipped : raw;
                    var input = Mutate(random, corpus);
                    try
                    {
                        var profile = ProfileDecoder.Decode(input, Options);
                        Assert.Null(ProfileValidator.FindProblem(profile));
                        var again = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(profile, compress: false), Options);
                        Assert.Equal(profile.Samples.Count, again.Samples.Count);
                        parsed++;
                    }
                    catch (ProfileFormatException e) when (e.Message.Length > 0)
                    {
                        rejected++;
                    }
                    catch (Exception e)
                    {
                        failure = e;
                        failingInput = input;
                        return;
                    }
                }
            },
            maxStackSize: 1024 * 1024)
        { IsBackground = true };
        thread.Start();

        var finished = thread.Join(TimeSpan.FromMinutes(5));

        Assert.True(finished, $"decoding mutant {current} (seed {Seed}) did not finish");
        Assert.True(
            failure is null,
            $"mutant {current} (seed {Seed}, {failingInput?.Length} bytes, starts {Convert.ToHexString(failingInput ?? [], 0, Math.Min(32, failingInput?.Length ?? 0))}) raised {failure}");
        Assert.Equal(Cases, parsed + rejected);
        Assert.True(parsed > 0 && rejected > 0, $"parsed {parsed}, rejected {rejected}: the mutations should produce both");
    }

    [Fact]
    public void Decode_ThrowsProfileFormatException_ForRandomBytes()
    {
        var random = new Random(Seed);
        for (var i = 0; i < 2000; i++)
        {
            var data = new byte[random.Next(1, 512)];
            random.NextBytes(data);
            if (i % 3 == 0)
            {
                data[0] = 0x1f;
                if (data.Length > 1)
                {
                    data[1] = 0x8b;
                }
            }

            try
            {
                ProfileDecoder.Decode(data, Options);
            }
            catch (ProfileFormatException)
            {
            }
        }
    }

    internal static byte[] Mutate(Random random, byte[][] corpus)
    {
        var data = (byte[])corpus[random.Next(corpus.Length)].Clone();
        var rounds = random.Next(1, 4);
        for (var round = 0; round < rounds && data.Length > 0; round++)
        {
            data = random.Next(8) switch
            {
                0 => FlipBits(random, data),
                1 => SetBytes(random, data),
                2 => data[..random.Next(data.Length)],
                3 => Splice(random, data, corpus[random.Next(corpus.Length)]),
                4 => CorruptVarint(random, data),
                5 => CorruptLength(random, data),
                6 => Insert(random, data),
                _ => Delete(random, data),
            };
        }

        return data;
    }

    private static byte[] FlipBits(Random random, byte[] data)
    {
        for (var n = random.Next(1, 9); n > 0; n--)
        {
            data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
        }

        return data;
    }

    private static byte[] SetBytes(Random random, byte[] data)
    {
        ReadOnlySpan<byte> special = [0x00, 0xff, 0x80, 0x7f, 0x01];
        for (var n = random.Next(1, 5); n > 0; n--)
        {
            data[random.Next(data.Length)] = random.Next(2) == 0 ? special[random.Next(special.Length)] : (byte)random.Next(256);
        }

        return data;
    }

    private static byte[] Splice(Random random, byte[] first, byte[] second) =>
        [.. first.AsSpan(0, random.Next(first.Length + 1)), .. second.AsSpan(random.Next(second.Length + 1))];

    // Continuation bits everywhere: varints that run long, past 10 bytes, or off the end.
    private static byte[] CorruptVarint(Random random, byte[] data)
    {
        var position = random.Next(data.Length);
        var count = Math.Min(random.Next(1, 12), data.Length - position);
        data.AsSpan(position, count).Fill(random.Next(2) == 0 ? (byte)0xff : (byte)0x80);
        return data;
    }

    // Finds a length-delimited key and gives it a length that is too long, too short or huge.
    private static byte[] CorruptLength(Random random, byte[] data)
    {
        var start = random.Next(data.Length);
        for (var i = start; i < data.Length - 1; i++)
        {
            if ((data[i] & 7) == 2 && data[i] >> 3 is >= 1 and <= 15)
            {
                byte[] length = random.Next(3) switch
                {
                    0 => [(byte)(data[i + 1] + 1)],
                    1 => [(byte)Math.Max(0, data[i + 1] - 1)],
                    _ => [0xff, 0xff, 0xff, 0xff, 0x07],
                };
                return [.. data.AsSpan(0, i + 1), .. length, .. data.AsSpan(i + 2)];
            }
        }

        return data;
    }

    private static byte[] Insert(Random random, byte[] data)
    {
        var position = random.Next(data.Length + 1);
        byte[] chunk;
        if (random.Next(2) == 0)
        {
            chunk = new byte[random.Next(1, 64)];
            random.NextBytes(chunk);
        }
        else
        {
            var from = random.Next(data.Length);
            chunk = data[from..Math.Min(data.Length, from + random.Next(1, 4096))];
        }

        return [.. data.AsSpan(0, position), .. chunk, .. data.AsSpan(position)];
    }

    private static byte[] Delete(Random random, byte[] data)
    {
        var position = random.Next(data.Length);
        var count = Math.Min(random.Next(1, 256), data.Length - position);
        return [.. data.AsSpan(0, position), .. data.AsSpan(position + count)];
    }

    internal static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
