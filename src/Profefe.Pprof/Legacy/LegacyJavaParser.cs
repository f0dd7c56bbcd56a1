namespace Profefe.Pprof.Legacy;

/// <summary>
/// The Java agent's text profiles ("--- heapz 1 ---", "--- contentionz 1 ---"): "name = value"
/// attributes, "value count @ ids" samples, then one "0xid function (file:line)" line per frame.
/// The ids are not addresses, so Go drops them once the frames are symbolized; it also unsamples
/// heap sizes at the agent's fixed 512 KiB rate and multiplies contention by the sampling period.
/// </summary>
internal static class LegacyJavaParser
{
    private const long JavaHeapSamplingRate = 524288;

    /// <summary>Null when the data is no Java heapz/contentionz profile.</summary>
    public static Profile? Parse(ReadOnlySpan<byte> data)
    {
        var newline = data.IndexOf((byte)'\n');
        if (newline < 0)
        {
            return null;
        }

        var header = LegacyText.TrimSpace(data[..newline]);
        bool heap;
        if (header.SequenceEqual("--- heapz 1 ---"u8))
        {
            heap = true;
        }
        else if (header.SequenceEqual("--- contentionz 1 ---"u8))
        {
            heap = false;
        }
        else
        {
            return null;
        }

        var profile = new Profile { PeriodType = new SampleType("", "") };
        var rest = data[(newline + 1)..];
        if (!ParseHeader(heap, ref rest, profile))
        {
            return null;
        }

        var locations = ParseSamples(heap, ref rest, profile);
        ParseLocations(rest, locations, profile);
        return profile;
    }

    /// <summary>False when an attribute makes the data unrecognized (not Java, unknown name).</summary>
    private static bool ParseHeader(bool heap, ref ReadOnlySpan<byte> rest, Profile profile)
    {
        for (var newline = rest.IndexOf((byte)'\n'); newline >= 0; newline = rest.IndexOf((byte)'\n'))
        {
            var line = LegacyText.TrimSpace(rest[..newline]);
            if (line.Length > 0)
            {
                if (!MatchAttribute(line, out var name, out var value))
                {
                    return true;
                }

                var attribute = LegacyText.String(LegacyText.TrimSpace(name));
                var text = LegacyText.TrimSpace(value);
                switch ((heap, attribute))
                {
                    case (_, "format"):
                        if (!text.SequenceEqual("java"u8))
                        {
                            return false;
                        }

                        break;
                    case (true, "resolution"):
                        profile.SampleTypes.Clear();
                        profile.SampleTypes.Add(new SampleType("inuse_objects", "count"));
                        profile.SampleTypes.Add(new SampleType("inuse_space", LegacyText.String(text)));
                        break;
                    case (false, "resolution"):
                        profile.SampleTypes.Clear();
                        profile.SampleTypes.Add(new SampleType("contentions", "count"));
                        profile.SampleTypes.Add(new SampleType("delay", LegacyText.String(text)));
                        break;
                    case (false, "sampling period"):
                        profile.PeriodType = new SampleType("contentions", "count");
                        if (!LegacyText.TryParseInt64(text, 0, out var period, out var error))
                        {
                            throw LegacyProfileParser.Malformed($"failed to parse attribute {LegacyText.String(line)}: {error}");
                        }

                        profile.Period = period;
                        break;
                    case (false, "ms since reset"):
                        if (!LegacyText.TryParseInt64(text, 0, out var millis, out error))
                        {
                            throw LegacyProfileParser.Malformed($"failed to parse attribute {LegacyText.String(line)}: {error}");
                        }

                        profile.DurationNanos = unchecked(millis * 1000 * 1000);
                        break;
                    default:
                        return false;
                }
            }

            rest = rest[(newline + 1)..];
        }

        return true;
    }

    /// <summary>Go's <c>([\w ]+)=([\w ]+)</c>, unanchored.</summary>
    private static bool MatchAttribute(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var runStart = 0;
        for (var i = 0; i < line.Length; i++)
        {
            if (IsWordOrSpace(line[i]))
            {
                continue;
            }

            if (line[i] == (byte)'=' && i > runStart && i + 1 < line.Length && IsWordOrSpace(line[i + 1]))
            {
                var end = i + 1;
                while (end < line.Length && IsWordOrSpace(line[end]))
                {
                    end++;
                }

                name = line[runStart..i];
                value = line[(i + 1)..end];
                return true;
            }

            runStart = i + 1;
        }

        name = value = default;
        return false;
    }

    private static bool IsWordOrSpace(byte b) => b == (byte)' ' || b == (byte)'_' || char.IsAsciiLetterOrDigit((char)b);

    private static Dictionary<ulong, Location> ParseSamples(bool heap, ref ReadOnlySpan<byte> rest, Profile profile)
    {
        var locations = new Dictionary<ulong, Location>();
        var addresses = new List<ulong>();
        for (var newline = rest.IndexOf((byte)'\n'); newline >= 0; newline = rest.IndexOf((byte)'\n'))
        {
            var line = LegacyText.TrimSpace(rest[..newline]);
            if (line.Length > 0)
            {
                if (!MatchSample(line, out var first, out var second, out var frames))
                {
                    return locations;
                }

                addresses.Clear();
                if (LegacyText.ParseHexAddresses(frames, addresses) is { } hexError)
                {
                    throw LegacyProfileParser.Malformed($"malformed sample: {LegacyText.String(line)}: {hexError}");
                }

                var stack = new Location[addresses.Count];
                for (var i = 0; i < addresses.Count; i++)
                {
                    if (!locations.TryGetValue(addresses[i], out var location))
                    {
                        location = new Location { Address = addresses[i] };
                        profile.Locations.Add(location);
                        locations.Add(addresses[i], location);
                    }

                    stack[i] = location;
                }

                // The Java agent writes the two values in the opposite order of the C++ profiles.
                if (!LegacyText.TryParseInt64(second, 0, out var v0, out var error) ||
                    !LegacyText.TryParseInt64(first, 0, out var v1, out error))
                {
                    throw LegacyProfileParser.Malformed($"parsing sample {LegacyText.String(line)}: {error}");
                }

                var sample = new Sample { Locations = stack };
                if (heap)
                {
                    if (v0 == 0)
                    {
                        throw LegacyProfileParser.Malformed($"parsing sample {LegacyText.String(line)}: second value must be non-zero");
                    }

                    sample.NumLabels = new Dictionary<string, long[]> { ["bytes"] = [LegacyText.Divide(v1, v0)] };
                    (v0, v1) = LegacyTextParser.ScaleHeapSample(v0, v1, JavaHeapSamplingRate);
                }
                else if (profile.Period != 0)
                {
                    v0 = unchecked(v0 * profile.Period);
                    v1 = unchecked(v1 * profile.Period);
                }

                sample.Values = [v0, v1];
                profile.Samples.Add(sample);
            }

            rest = rest[(newline + 1)..];
        }

        return locations;
    }

    /// <summary>Go's <c> *(\d+) +(\d+) +@ +([ x0-9a-f]*)</c>, unanchored.</summary>
    private static bool MatchSample(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> second, out ReadOnlySpan<byte> frames)
    {
        // The leading " *" can only move the match start left, never change the groups, and a run of
        // digits that fails from its start fails from every later digit in it.
        for (var start = 0; start < line.Length; start++)
        {
            if (!char.IsAsciiDigit((char)line[start]) || (start > 0 && char.IsAsciiDigit((char)line[start - 1])))
            {
                continue;
            }

            var i = Digits(line, start);
            var firstEnd = i;
            var spaces = Spaces(line, i);
            if (spaces == i)
            {
                continue;
            }

            var secondEnd = Digits(line, spaces);
            if (secondEnd == spaces)
            {
                continue;
            }

            var beforeAt = Spaces(line, secondEnd);
            if (beforeAt == secondEnd || beforeAt >= line.Length || line[beforeAt] != (byte)'@')
            {
                continue;
            }

            var afterAt = Spaces(line, beforeAt + 1);
            if (afterAt == beforeAt + 1)
            {
                continue;
            }

            var end = afterAt;
            while (end < line.Length && line[end] is (byte)' ' or (byte)'x' or (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f'))
            {
                end++;
            }

            first = line[start..firstEnd];
            second = line[spaces..secondEnd];
            frames = line[afterAt..end];
            return true;
        }

        first = second = frames = default;
        return false;
    }

    private static int Digits(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && char.IsAsciiDigit((char)s[i]))
        {
            i++;
        }

        return i;
    }

    private static int Spaces(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && s[i] == (byte)' ')
        {
            i++;
        }

        return i;
    }

    /// <summary>
    /// Reads the "0xid frame" lines, giving each sampled id its function (one per distinct name, the
    /// first file seen wins) and dropping the id, then renumbers like Go and checks the result.
    /// </summary>
    internal static void ParseLocations(ReadOnlySpan<byte> rest, Dictionary<ulong, Location> locations, Profile profile)
    {
        var functions = new Dictionary<string, Function>(StringComparer.Ordinal);
        while (rest.Length > 0)
        {
            var newline = rest.IndexOf((byte)'\n');
            var raw = newline >= 0 ? rest[..newline] : rest;
            rest = newline >= 0 ? rest[(newline + 1)..] : default;
            var line = LegacyText.TrimSpace(raw);
            if (line.Length == 0 || !MatchLocation(line, out var id, out var frame))
            {
                continue;
            }

            if (!LegacyText.TryParseUInt64(id, 16, out var address, out var error))
            {
                throw LegacyProfileParser.Malformed($"parsing sample {LegacyText.String(line)}: {error}");
            }

            if (!locations.TryGetValue(address, out var location))
            {
                continue;
            }

            var (name, file, lineNumber) = DescribeFrame(frame);
            if (!functions.TryGetValue(name, out var function))
            {
                function = new Function { Name = name, SystemName = name, Filename = file };
                functions.Add(name, function);
                profile.Functions.Add(function);
            }

            location.Lines = [new Line(function, lineNumber)];
            location.Address = 0;
        }

        LegacyMappings.RemapLocationIds(profile);
        LegacyMappings.RemapFunctionIds(profile);
        LegacyMappings.RemapMappingIds(profile);

        // Go's Aggregate(address: false): ids are no addresses, so none survive.
        foreach (var location in profile.Locations)
        {
            location.Address = 0;
        }

        if (profile.SampleTypes.Count == 0 && profile.Samples.Count > 0)
        {
            throw LegacyProfileParser.Malformed("missing sample type information");
        }

        foreach (var sample in profile.Samples)
        {
            if (sample.Values.Length != profile.SampleTypes.Count)
            {
                throw LegacyProfileParser.Malformed($"mismatch: sample has {sample.Values.Length} values vs. {profile.SampleTypes.Count} types");
            }
        }
    }

    /// <summary>Go's <c>^\s*0x([[:xdigit:]]+)\s+(.*)\s*$</c> on a trimmed line.</summary>
    private static bool MatchLocation(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> id, out ReadOnlySpan<byte> frame)
    {
        id = frame = default;
        var i = 0;
        while (i < line.Length && IsGoSpace(line[i]))
        {
            i++;
        }

        if (i + 2 > line.Length || line[i] != (byte)'0' || line[i + 1] != (byte)'x')
        {
            return false;
        }

        var hexStart = i + 2;
        var hexEnd = hexStart;
        while (hexEnd < line.Length && char.IsAsciiHexDigit((char)line[hexEnd]))
        {
            hexEnd++;
        }

        var frameStart = hexEnd;
        while (frameStart < line.Length && IsGoSpace(line[frameStart]))
        {
            frameStart++;
        }

        // The greedy "(.*)" takes the rest of the line ("." stops only at a newline, which cannot occur).
        if (hexEnd == hexStart || frameStart == hexEnd)
        {
            return false;
        }

        id = line[hexStart..hexEnd];
        frame = line[frameStart..];
        return true;
    }

    private static bool IsGoSpace(byte b) => b is (byte)'\t' or (byte)'\n' or (byte)'\f' or (byte)'\r' or (byte)' ';

    /// <summary>"function (file:line)", "function (path of a .so)", a JIT stub, or a bare state name.</summary>
    private static (string Name, string File, long Line) DescribeFrame(ReadOnlySpan<byte> frame)
    {
        if (frame.Length > 0 && frame[^1] == (byte)')')
        {
            var close = frame.Length - 1;

            // "^(.*)\s+\((.+):(-?[[:digit:]]+)\)$": the number runs back from ")" to a ":".
            var digitsStart = close;
            while (digitsStart > 0 && char.IsAsciiDigit((char)frame[digitsStart - 1]))
            {
                digitsStart--;
            }

            if (digitsStart < close)
            {
                var colon = digitsStart - 1;
                if (colon >= 0 && frame[colon] == (byte)'-')
                {
                    colon--;
                }

                if (colon >= 0 && frame[colon] == (byte)':' && LastOpenParen(frame, colon - 1) is var open and >= 0)
                {
                    long lineNumber = 0;
                    if (LegacyText.TryParseInt64(frame[(colon + 1)..close], 10, out var n, out _) && n > 0)
                    {
                        lineNumber = n;
                    }

                    return (LegacyText.String(frame[..(open - 1)]), LegacyText.String(frame[(open + 1)..colon]), lineNumber);
                }
            }

            // "^(.*)\s+\((.*)\)$"
            if (LastOpenParen(frame, close) is var pathOpen and >= 0)
            {
                return (LegacyText.String(frame[..(pathOpen - 1)]), LegacyText.FilepathBase(LegacyText.String(frame[(pathOpen + 1)..close])), 0);
            }
        }

        if (frame.IndexOf("generated stub/JIT"u8) >= 0)
        {
            return ("STUB", "", 0);
        }

        return (LegacyText.String(frame), "", 0);
    }

    /// <summary>
    /// The last "(" before <paramref name="limit"/> (exclusive) preceded by white space, so the
    /// greedy leading group takes as much as it can; -1 when there is none.
    /// </summary>
    private static int LastOpenParen(ReadOnlySpan<byte> frame, int limit)
    {
        for (var i = Math.Min(limit, frame.Length) - 1; i >= 1; i--)
        {
            if (frame[i] == (byte)'(' && IsGoSpace(frame[i - 1]))
            {
                return i;
            }
        }

        return -1;
    }
}
