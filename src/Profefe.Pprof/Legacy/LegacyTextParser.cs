namespace Profefe.Pprof.Legacy;

/// <summary>
/// The line-oriented legacy formats: heapz/growthz/fragmentationz heap profiles, Go's text count
/// profiles ("goroutine profile: total N"), threadz and contentionz/mutex profiles. Each reads lines
/// with Go's scanner semantics and ends with the memory map section.
/// </summary>
internal static class LegacyTextParser
{
    private static readonly GoRegex CountStart = GoRegex.Compile(@"\A(\S+) profile: total \d+\z");
    private static readonly GoRegex CountSample = GoRegex.Compile(@"\A(\d+) @(( 0x[0-9a-f]+)+)\z");
    private static readonly GoRegex HeapHeader = GoRegex.Compile(@"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *(heap[_a-z0-9]*)/?(\d*)");
    private static readonly GoRegex HeapSample = GoRegex.Compile(@"(-?\d+): *(-?\d+) *\[ *(\d+): *(\d+) *] @([ x0-9a-f]*)");
    private static readonly GoRegex ContentionSample = GoRegex.Compile(@"(\d+) *(\d+) @([ x0-9a-f]*)");
    private static readonly GoRegex GrowthHeader = GoRegex.Compile(@"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @ growthz?");
    private static readonly GoRegex FragmentationHeader = GoRegex.Compile(@"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @ fragmentationz?");
    private static readonly GoRegex ThreadzStart = GoRegex.Compile(@"--- threadz \d+ ---");
    private static readonly GoRegex ThreadStart = GoRegex.Compile(@"--- Thread ([[:xdigit:]]+) \(name: (.*)/(\d+)\) stack: ---");

    private enum Sampling
    {
        None,
        V2,
    }

    /// <summary>Null when the data is no heap profile.</summary>
    public static Profile? ParseHeap(ReadOnlySpan<byte> data)
    {
        var scanner = new GoLineScanner(data);
        if (!scanner.Scan())
        {
            return scanner.Error is { } error ? throw LegacyProfileParser.Malformed(error) : null;
        }

        Span<int> c = stackalloc int[14];
        var profile = new Profile { PeriodType = new SampleType("space", "bytes") };
        var sampling = Sampling.None;
        var hasAlloc = false;
        var header = scanner.Text;
        if (HeapHeader.Match(header, c))
        {
            if (!TryParseHeapHeader(header, c, out sampling, out var period, out hasAlloc))
            {
                return null;
            }

            profile.Period = period;
        }
        else if (GrowthHeader.Match(header, c) || FragmentationHeader.Match(header, c))
        {
            profile.Period = 1;
        }
        else
        {
            return null;
        }

        if (hasAlloc)
        {
            // Alloc first so that pprof's default (the last type) is inuse_space.
            profile.SampleTypes.Add(new SampleType("alloc_objects", "count"));
            profile.SampleTypes.Add(new SampleType("alloc_space", "bytes"));
            profile.SampleTypes.Add(new SampleType("inuse_objects", "count"));
            profile.SampleTypes.Add(new SampleType("inuse_space", "bytes"));
        }
        else
        {
            profile.SampleTypes.Add(new SampleType("objects", "count"));
            profile.SampleTypes.Add(new SampleType("space", "bytes"));
        }

        var locations = new Dictionary<ulong, Location>();
        var addresses = new List<ulong>();
        while (scanner.Scan())
        {
            var line = LegacyText.TrimSpace(scanner.Text);
            if (LegacyText.IsSpaceOrComment(line))
            {
                continue;
            }

            if (LegacyText.IsMemoryMapSentinel(line))
            {
                break;
            }

            var (values, blockSize) = ParseHeapSample(line, c, profile.Period, sampling, hasAlloc, addresses);
            profile.Samples.Add(new Sample
            {
                Values = values,
                Locations = CallerLocations(addresses, locations, profile, adjustLeaf: true),
                NumLabels = new Dictionary<string, long[]> { ["bytes"] = [blockSize] },
            });
        }

        if (scanner.Error is not null)
        {
            throw LegacyProfileParser.Malformed(scanner.Error);
        }

        LegacyMappings.ParseAdditionalSections(ref scanner, profile);
        return profile;
    }

    private static bool TryParseHeapHeader(ReadOnlySpan<byte> line, Span<int> c, out Sampling sampling, out long period, out bool hasAlloc)
    {
        sampling = Sampling.None;
        period = 0;
        hasAlloc = false;
        var rate = Group(line, c, 6);
        if (rate.Length > 0 && !LegacyText.TryParseInt64(rate, 10, out period, out _))
        {
            return false;
        }

        // Go compares the texts, not the numbers.
        var inuseObjects = Group(line, c, 1);
        var inuseSpace = Group(line, c, 2);
        var allocObjects = Group(line, c, 3);
        var allocSpace = Group(line, c, 4);
        hasAlloc = (!allocObjects.SequenceEqual(inuseObjects) && !allocObjects.SequenceEqual("0"u8)) ||
            (!allocSpace.SequenceEqual(inuseSpace) && !allocSpace.SequenceEqual("0"u8));

        var kind = Group(line, c, 5);
        if (kind.SequenceEqual("heapz_v2"u8) || kind.SequenceEqual("heap_v2"u8))
        {
            sampling = Sampling.V2;
            return true;
        }

        if (kind.SequenceEqual("heapprofile"u8))
        {
            period = 1;
            return true;
        }

        if (kind.SequenceEqual("heap"u8))
        {
            // Go's runtime wrote twice its sampling rate in the header.
            sampling = Sampling.V2;
            period /= 2;
            return true;
        }

        return false;
    }

    private static (long[] Values, long BlockSize) ParseHeapSample(
        ReadOnlySpan<byte> line, Span<int> c, long rate, Sampling sampling, bool includeAlloc, List<ulong> addresses)
    {
        if (!HeapSample.Match(line, c))
        {
            throw LegacyProfileParser.Malformed("unexpected number of sample values: got 0, want 6");
        }

        var values = new long[includeAlloc ? 4 : 2];
        var index = 0;
        long blockSize = 0;
        if (includeAlloc)
        {
            AddValues(line, Group(line, c, 3), Group(line, c, 4), "allocation", values, ref index, ref blockSize, rate, sampling);
        }

        AddValues(line, Group(line, c, 1), Group(line, c, 2), "inuse", values, ref index, ref blockSize, rate, sampling);

        addresses.Clear();
        if (LegacyText.ParseHexAddresses(Group(line, c, 5), addresses) is { } error)
        {
            throw LegacyProfileParser.Malformed($"malformed sample: {LegacyText.String(line)}: {error}");
        }

        return (values, blockSize);
    }

    private static void AddValues(
        ReadOnlySpan<byte> line, ReadOnlySpan<byte> countText, ReadOnlySpan<byte> sizeText, string label,
        long[] values, ref int index, ref long blockSize, long rate, Sampling sampling)
    {
        if (!LegacyText.TryParseInt64(countText, 10, out var count, out var error) ||
            !LegacyText.TryParseInt64(sizeText, 10, out var size, out error))
        {
            throw LegacyProfileParser.Malformed($"malformed sample: {LegacyText.String(line)}: {error}");
        }

        if (count == 0 && size != 0)
        {
            throw LegacyProfileParser.Malformed($"{label} count was 0 but {label} bytes was {size}");
        }

        if (count != 0)
        {
            blockSize = LegacyText.Divide(size, count);
            if (sampling == Sampling.V2)
            {
                (count, size) = ScaleHeapSample(count, size, rate);
            }
        }

        values[index++] = count;
        values[index++] = size;
    }

    /// <summary>
    /// Unsamples a heapz v2 entry: an allocation of average size S shows up with probability
    /// 1 - exp(-S/rate), so count and size are divided by that.
    /// </summary>
    internal static (long Count, long Size) ScaleHeapSample(long count, long size, long rate)
    {
        if (count == 0 || size == 0)
        {
            return (0, 0);
        }

        if (rate <= 1)
        {
            return (count, size);
        }

        var averageSize = (double)size / count;
        var scale = 1 / (1 - Math.Exp(-averageSize / rate));
        return (LegacyText.FloatToInt64(count * scale), LegacyText.FloatToInt64(size * scale));
    }

    /// <summary>Null when the data is no "NAME profile: total N" count profile.</summary>
    public static Profile? ParseGoCount(ReadOnlySpan<byte> data)
    {
        var scanner = new GoLineScanner(data);
        while (scanner.Scan() && LegacyText.IsSpaceOrComment(scanner.Text))
        {
        }

        if (scanner.Error is not null)
        {
            throw LegacyProfileParser.Malformed(scanner.Error);
        }

        Span<int> c = stackalloc int[8];
        var header = scanner.Text;
        if (!CountStart.Match(header, c))
        {
            return null;
        }

        var type = LegacyText.String(Group(header, c, 1));
        var profile = new Profile { PeriodType = new SampleType(type, "count"), Period = 1 };
        profile.SampleTypes.Add(new SampleType(type, "count"));
        var locations = new Dictionary<ulong, Location>();
        var addresses = new List<ulong>();
        while (scanner.Scan())
        {
            var line = scanner.Text;
            if (LegacyText.IsSpaceOrComment(line))
            {
                continue;
            }

            if (line.StartsWith("---"u8))
            {
                break;
            }

            if (!CountSample.Match(line, c) || !LegacyText.TryParseInt64(Group(line, c, 1), 0, out var count, out _))
            {
                throw LegacyProfileParser.Malformed("malformed profile format");
            }

            addresses.Clear();
            var frames = Group(line, c, 2);
            foreach (var range in frames.Split((byte)' '))
            {
                var field = frames[range];
                if (field.Length == 0)
                {
                    continue;
                }

                if (!LegacyText.TryParseUInt64(field, 0, out var address, out _))
                {
                    throw LegacyProfileParser.Malformed("malformed profile format");
                }

                addresses.Add(address);
            }

            profile.Samples.Add(new Sample
            {
                Values = [count],
                Locations = CallerLocations(addresses, locations, profile, adjustLeaf: true),
            });
        }

        if (scanner.Error is not null)
        {
            throw LegacyProfileParser.Malformed(scanner.Error);
        }

        LegacyMappings.ParseAdditionalSections(ref scanner, profile);
        return profile;
    }

    /// <summary>Null when the data is no threadz profile.</summary>
    public static Profile? ParseThread(ReadOnlySpan<byte> data)
    {
        var scanner = new GoLineScanner(data);
        while (scanner.Scan() && LegacyText.IsSpaceOrComment(scanner.Text))
        {
        }

        Span<int> c = stackalloc int[8];
        var line = scanner.Text;
        if (ThreadzStart.Match(line, c))
        {
            // Skip the comments up to the first stack trace.
            while (scanner.Scan())
            {
                line = scanner.Text;
                if (LegacyText.IsMemoryMapSentinel(line) || line.StartsWith("-"u8))
                {
                    break;
                }
            }
        }
        else if (!ThreadStart.Match(line, c))
        {
            return null;
        }

        var profile = new Profile { PeriodType = new SampleType("thread", "count"), Period = 1 };
        profile.SampleTypes.Add(new SampleType("thread", "count"));
        var locations = new Dictionary<ulong, Location>();
        var addresses = new List<ulong>();
        while (!LegacyText.IsMemoryMapSentinel(line))
        {
            if (line.StartsWith("---- no stack trace for"u8))
            {
                break;
            }

            if (!ThreadStart.Match(line, c))
            {
                return null;
            }

            line = ParseThreadSample(ref scanner, addresses, out var sameAsPrevious);
            if (sameAsPrevious || addresses.Count == 0)
            {
                // "same as previous thread": one more thread on the last stack.
                if (profile.Samples.Count > 0)
                {
                    var values = profile.Samples[^1].Values;
                    values[0] = unchecked(values[0] + 1);
                }

                continue;
            }

            profile.Samples.Add(new Sample
            {
                Values = [1],
                Locations = CallerLocations(addresses, locations, profile, adjustLeaf: false),
            });
        }

        LegacyMappings.ParseAdditionalSections(ref scanner, profile);
        LegacyCpuParser.RemoveDuplicateLeaves(profile);
        return profile;
    }

    /// <summary>Reads one thread's frames; returns the line that ended them.</summary>
    private static ReadOnlySpan<byte> ParseThreadSample(scoped ref GoLineScanner scanner, List<ulong> addresses, out bool sameAsPrevious)
    {
        addresses.Clear();
        sameAsPrevious = false;
        ReadOnlySpan<byte> line = default;
        while (scanner.Scan())
        {
            line = LegacyText.TrimSpace(scanner.Text);
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("---"u8))
            {
                break;
            }

            if (line.IndexOf("same as previous thread"u8) >= 0)
            {
                sameAsPrevious = true;
                continue;
            }

            if (LegacyText.ParseHexAddresses(line, addresses) is { } error)
            {
                throw LegacyProfileParser.Malformed($"malformed sample: {LegacyText.String(line)}: {error}");
            }
        }

        if (scanner.Error is not null)
        {
            throw LegacyProfileParser.Malformed(scanner.Error);
        }

        return line;
    }

    /// <summary>Null when the data is no contention (contentionz, Go mutex or block) profile.</summary>
    public static Profile? ParseContention(ReadOnlySpan<byte> data)
    {
        var scanner = new GoLineScanner(data);
        if (!scanner.Scan())
        {
            return scanner.Error is { } error ? throw LegacyProfileParser.Malformed(error) : null;
        }

        var first = scanner.Text;
        if (!first.StartsWith("--- contentionz "u8) && !first.StartsWith("--- mutex:"u8) && !first.StartsWith("--- contention:"u8))
        {
            return null;
        }

        var profile = new Profile { PeriodType = new SampleType("contentions", "count"), Period = 1 };
        profile.SampleTypes.Add(new SampleType("contentions", "count"));
        profile.SampleTypes.Add(new SampleType("delay", "nanoseconds"));

        long cpuHz = 0;
        while (scanner.Scan())
        {
            var line = LegacyText.TrimSpace(scanner.Text);
            if (LegacyText.IsSpaceOrComment(line))
            {
                continue;
            }

            if (line.StartsWith("---"u8))
            {
                break;
            }

            var equals = line.IndexOf((byte)'=');
            if (equals < 0)
            {
                break;
            }

            var key = LegacyText.String(LegacyText.TrimSpace(line[..equals]));
            var value = LegacyText.TrimSpace(line[(equals + 1)..]);
            switch (key)
            {
                case "cycles/second":
                    if (!LegacyText.TryParseInt64(value, 0, out cpuHz, out _))
                    {
                        return null;
                    }

                    break;
                case "sampling period":
                    if (!LegacyText.TryParseInt64(value, 0, out var period, out _))
                    {
                        return null;
                    }

                    profile.Period = period;
                    break;
                case "ms since reset":
                    if (!LegacyText.TryParseInt64(value, 0, out var millis, out _))
                    {
                        return null;
                    }

                    profile.DurationNanos = unchecked(millis * 1000 * 1000);
                    break;
                case "discarded samples":
                    break;
                default:
                    // Includes "format" and "resolution", which only Java contention profiles have.
                    return null;
            }
        }

        if (scanner.Error is not null)
        {
            throw LegacyProfileParser.Malformed(scanner.Error);
        }

        Span<int> c = stackalloc int[8];
        var locations = new Dictionary<ulong, Location>();
        var addresses = new List<ulong>();
        while (true)
        {
            var line = LegacyText.TrimSpace(scanner.Text);
            if (line.StartsWith("---"u8))
            {
                break;
            }

            if (!LegacyText.IsSpaceOrComment(line))
            {
                if (!ContentionSample.Match(line, c))
                {
                    return null;
                }

                var values = ParseContentionValues(line, c, profile.Period, cpuHz);
                addresses.Clear();
                if (LegacyText.ParseHexAddresses(Group(line, c, 3), addresses) is { } hexError)
                {
                    throw LegacyProfileParser.Malformed($"malformed sample: {LegacyText.String(line)}: {hexError}");
                }

                profile.Samples.Add(new Sample
                {
                    Values = values,
                    Locations = CallerLocations(addresses, locations, profile, adjustLeaf: true),
                });
            }

            if (!scanner.Scan())
            {
                break;
            }
        }

        if (scanner.Error is not null)
        {
            throw LegacyProfileParser.Malformed(scanner.Error);
        }

        LegacyMappings.ParseAdditionalSections(ref scanner, profile);
        return profile;
    }

    /// <summary>
    /// Unsamples with the period when there is one: the count times the period, the delay (in
    /// cycles) times the period and converted to nanoseconds with the clock rate.
    /// </summary>
    private static long[] ParseContentionValues(ReadOnlySpan<byte> line, Span<int> c, long period, long cpuHz)
    {
        if (!LegacyText.TryParseInt64(Group(line, c, 1), 10, out var delay, out var error) ||
            !LegacyText.TryParseInt64(Group(line, c, 2), 10, out var count, out error))
        {
            throw LegacyProfileParser.Malformed($"malformed sample: {LegacyText.String(line)}: {error}");
        }

        if (period > 0)
        {
            if (cpuHz > 0)
            {
                var cpuGHz = (double)cpuHz / 1e9;
                delay = LegacyText.FloatToInt64((double)delay * period / cpuGHz);
            }

            count = unchecked(count * period);
        }

        return [count, delay];
    }

    /// <summary>
    /// Locations for a stack, one per distinct address. Return addresses point after the call, so all
    /// frames but the leaf (and the leaf too, unless <paramref name="adjustLeaf"/> is false) move back
    /// by one onto the call instruction, as Go does.
    /// </summary>
    private static Location[] CallerLocations(List<ulong> addresses, Dictionary<ulong, Location> locations, Profile profile, bool adjustLeaf)
    {
        var stack = new Location[addresses.Count];
        for (var i = 0; i < addresses.Count; i++)
        {
            var address = addresses[i];
            if (adjustLeaf || i > 0)
            {
                address = unchecked(address - 1);
            }

            if (!locations.TryGetValue(address, out var location))
            {
                location = new Location { Address = address };
                profile.Locations.Add(location);
                locations.Add(address, location);
            }

            stack[i] = location;
        }

        return stack;
    }

    private static ReadOnlySpan<byte> Group(ReadOnlySpan<byte> line, Span<int> captures, int group) =>
        captures[2 * group] < 0 ? default : line[captures[2 * group]..captures[(2 * group) + 1]];
}
