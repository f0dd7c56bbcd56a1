using System.Buffers.Binary;

namespace Profefe.Pprof.Legacy;

/// <summary>
/// gperftools' binary CPU profile ("profilez"): a header of five words (0, 3, 0 for C++ or 1 for Java,
/// the sampling period in microseconds, 0), then (count, depth, pc...) records up to a (0, 1, 0)
/// trailer, then the text memory map (C++) or symbol table (Java). The word size and byte order are
/// whichever of 32/64-bit little/big endian makes the header read right, tried in Go's order.
/// </summary>
internal static class LegacyCpuParser
{
    private enum WordFormat
    {
        Little32,
        Big32,
        Little64,
        Big64,
    }

    private ref struct WordReader(ReadOnlySpan<byte> data, WordFormat format)
    {
        private ReadOnlySpan<byte> _rest = data;

        /// <summary>Go's parse functions turn the remaining slice nil once a word does not fit.</summary>
        public bool Exhausted { get; private set; }

        public readonly ReadOnlySpan<byte> Rest => Exhausted ? default : _rest;

        public readonly int Remaining => Exhausted ? 0 : _rest.Length;

        public ulong Next()
        {
            var size = format is WordFormat.Little32 or WordFormat.Big32 ? 4 : 8;
            if (Exhausted || _rest.Length < size)
            {
                Exhausted = true;
                return 0;
            }

            var word = format switch
            {
                WordFormat.Little32 => BinaryPrimitives.ReadUInt32LittleEndian(_rest),
                WordFormat.Big32 => BinaryPrimitives.ReadUInt32BigEndian(_rest),
                WordFormat.Little64 => BinaryPrimitives.ReadUInt64LittleEndian(_rest),
                _ => BinaryPrimitives.ReadUInt64BigEndian(_rest),
            };
            _rest = _rest[size..];
            return word;
        }
    }

    /// <summary>Null when the data is no binary CPU profile.</summary>
    public static Profile? Parse(ReadOnlySpan<byte> data)
    {
        for (var format = WordFormat.Little32; format <= WordFormat.Big64; format++)
        {
            var reader = new WordReader(data, format);
            var (n1, n2, n3, n4, n5) = (reader.Next(), reader.Next(), reader.Next(), reader.Next(), reader.Next());
            if (reader.Exhausted || n1 != 0 || n2 != 3 || n4 == 0 || n5 != 0)
            {
                continue;
            }

            if (n3 == 0)
            {
                return ParseCpp(reader, unchecked((long)n4));
            }

            if (n3 == 1)
            {
                return ParseJava(reader, unchecked((long)n4));
            }
        }

        return null;
    }

    private static Profile NewProfile(long periodMicros)
    {
        var profile = new Profile
        {
            Period = unchecked(periodMicros * 1000),
            PeriodType = new SampleType("cpu", "nanoseconds"),
        };
        profile.SampleTypes.Add(new SampleType("samples", "count"));
        profile.SampleTypes.Add(new SampleType("cpu", "nanoseconds"));
        return profile;
    }

    private static Profile? ParseCpp(WordReader reader, long periodMicros)
    {
        var profile = NewProfile(periodMicros);
        if (ParseSamples(ref reader, adjust: true, profile) is null)
        {
            return null;
        }

        StripSignalHandlerFrames(profile);
        var scanner = new GoLineScanner(reader.Rest);
        LegacyMappings.ParseMemoryMap(ref scanner, profile);
        RemoveDuplicateLeaves(profile);
        return profile;
    }

    private static Profile? ParseJava(WordReader reader, long periodMicros)
    {
        var profile = NewProfile(periodMicros);
        var locations = ParseSamples(ref reader, adjust: false, profile);
        if (locations is null)
        {
            return null;
        }

        LegacyJavaParser.ParseLocations(reader.Rest, locations, profile);
        return profile;
    }

    /// <summary>
    /// Reads the sample records; null when a record claims more frames than the data could hold (Go
    /// then reports the data as unrecognized). Return addresses but the leaf's are moved back by one
    /// to land on the call instruction when <paramref name="adjust"/> is set.
    /// </summary>
    private static Dictionary<ulong, Location>? ParseSamples(ref WordReader reader, bool adjust, Profile profile)
    {
        var locations = new Dictionary<ulong, Location>();
        var addresses = new List<ulong>();
        while (reader.Remaining > 0)
        {
            var count = reader.Next();
            var depth = reader.Next();
            if (reader.Exhausted || depth > (ulong)(reader.Remaining / 4))
            {
                return null;
            }

            addresses.Clear();
            for (var i = 0UL; i < depth; i++)
            {
                addresses.Add(reader.Next());
            }

            if (count == 0 && depth == 1 && addresses[0] == 0)
            {
                break;
            }

            var stack = new Location[addresses.Count];
            for (var i = 0; i < addresses.Count; i++)
            {
                var address = addresses[i];
                if (adjust && i > 0)
                {
                    address = unchecked(address - 1);
                }

                if (!locations.TryGetValue(address, out var location))
                {
                    location = new Location { Address = address };
                    locations.Add(address, location);
                    profile.Locations.Add(location);
                }

                stack[i] = location;
            }

            var samples = unchecked((long)count);
            profile.Samples.Add(new Sample { Locations = stack, Values = [samples, unchecked(samples * profile.Period)] });
        }

        return locations;
    }

    /// <summary>
    /// When (nearly) every sample has the same second frame it is the signal handler's, not the
    /// program's: Go removes it, up to twice, allowing one different sample in 32.
    /// </summary>
    private static void StripSignalHandlerFrames(Profile profile)
    {
        var samples = profile.Samples;
        var margin = samples.Count / 32;
        var counts = new Dictionary<ulong, int>();
        for (var iteration = 0; iteration < 2; iteration++)
        {
            counts.Clear();
            foreach (var sample in samples)
            {
                if (sample.Locations.Length > 1)
                {
                    var address = sample.Locations[1].Address;
                    counts[address] = counts.GetValueOrDefault(address) + 1;
                }
            }

            foreach (var (address, count) in counts)
            {
                if (count < samples.Count - margin)
                {
                    continue;
                }

                foreach (var sample in samples)
                {
                    if (sample.Locations.Length > 1 && sample.Locations[1].Address == address)
                    {
                        sample.Locations = RemoveSecond(sample.Locations);
                    }
                }

                break;
            }
        }
    }

    /// <summary>
    /// The unwinder may repeat the leaf (taken from the signal context and from the stack): drop the
    /// second frame when it is the leaf adjusted by -1.
    /// </summary>
    internal static void RemoveDuplicateLeaves(Profile profile)
    {
        foreach (var sample in profile.Samples)
        {
            var stack = sample.Locations;
            if (stack.Length > 1 && stack[0].Address == unchecked(stack[1].Address + 1))
            {
                sample.Locations = RemoveSecond(stack);
            }
        }
    }

    private static Location[] RemoveSecond(Location[] stack)
    {
        var shorter = new Location[stack.Length - 1];
        shorter[0] = stack[0];
        Array.Copy(stack, 2, shorter, 1, stack.Length - 2);
        return shorter;
    }
}
