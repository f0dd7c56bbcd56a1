namespace Profefe.Pprof.Legacy;

/// <summary>
/// The memory-map section of legacy profiles (/proc/self/maps lines and the brief
/// "start-end file (@offset) buildid" form) and the id renumbering Go applies after it: locations in
/// sample order, functions in location order, each address attached to the mapping that holds it.
/// </summary>
internal static class LegacyMappings
{
    private const string CHex = @"(?:0x)?([[:xdigit:]]+)";
    private const string CHexRange = @"\s*" + CHex + @"[\s-]?" + @"\s*" + CHex + ":?";
    private const string CPerm = @"(?:\s+([-rwxp]+))?";
    private const string CSpaceHex = @"(?:\s+([[:xdigit:]]+))?";
    private const string HexPair = @"\s+[[:xdigit:]]+:[[:xdigit:]]+";
    private const string SpaceDigits = @"\s+[[:digit:]]+";
    private const string CSpaceString = @"(?:\s+(\S+))?";
    private const string CSpaceAtOffset = @"(?:\s+\(@([[:xdigit:]]+)\))?";

    private static readonly GoRegex ProcMaps = GoRegex.Compile("^" + CHexRange + CPerm + CSpaceHex + HexPair + SpaceDigits + CSpaceString);
    private static readonly GoRegex BriefMaps = GoRegex.Compile("^" + CHexRange + CPerm + CSpaceString + CSpaceAtOffset + CSpaceHex);
    private static readonly GoRegex LogPrefix = GoRegex.Compile(@"^[^\[\]]+:[0-9]+]\s");

    /// <summary>Go's ParseMemoryMapFromScanner: reads mappings to the end of the scanner, then renumbers.</summary>
    public static void ParseMemoryMap(ref GoLineScanner scanner, Profile profile)
    {
        var replacer = new AttributeReplacer();
        Span<int> captures = stackalloc int[14];
        while (scanner.Scan())
        {
            var line = replacer.Replace(RemoveLoggingInfo(scanner.Text, captures));
            if (TryParseMappingEntry(line, captures, out var mapping))
            {
                if (mapping is not null)
                {
                    profile.Mappings.Add(mapping);
                }

                continue;
            }

            var equals = line.IndexOf((byte)'=');
            if (equals >= 0)
            {
                replacer.Add(LegacyText.TrimSpace(line[..equals]), LegacyText.TrimSpace(line[(equals + 1)..]));
            }
        }

        if (scanner.Error is not null)
        {
            throw LegacyProfileParser.Malformed(scanner.Error);
        }

        MassageMappings(profile);
        RemapLocationIds(profile);
        RemapFunctionIds(profile);
        RemapMappingIds(profile);
    }

    /// <summary>Go's parseAdditionalSections: skips to the memory map sentinel, then parses the map.</summary>
    public static void ParseAdditionalSections(ref GoLineScanner scanner, Profile profile)
    {
        while (!LegacyText.IsMemoryMapSentinel(scanner.Text) && scanner.Scan())
        {
        }

        if (scanner.Error is not null)
        {
            throw LegacyProfileParser.Malformed(scanner.Error);
        }

        ParseMemoryMap(ref scanner, profile);
    }

    private static ReadOnlySpan<byte> RemoveLoggingInfo(ReadOnlySpan<byte> line, Span<int> captures) =>
        LogPrefix.Match(line, captures) ? line[captures[1]..] : line;

    /// <summary>False for a line that is no mapping; true with null for a non-executable mapping.</summary>
    private static bool TryParseMappingEntry(ReadOnlySpan<byte> line, Span<int> c, out Mapping? mapping)
    {
        mapping = null;
        ReadOnlySpan<byte> start, end, perm, offset, file, buildId = default;
        if (ProcMaps.Match(line, c))
        {
            start = Group(line, c, 1);
            end = Group(line, c, 2);
            perm = Group(line, c, 3);
            offset = Group(line, c, 4);
            file = Group(line, c, 5);
        }
        else if (BriefMaps.Match(line, c))
        {
            start = Group(line, c, 1);
            end = Group(line, c, 2);
            perm = Group(line, c, 3);
            file = Group(line, c, 4);
            offset = Group(line, c, 5);
            buildId = Group(line, c, 6);
        }
        else
        {
            return false;
        }

        if (perm.Length > 0 && perm.IndexOf((byte)'x') < 0)
        {
            return true;
        }

        if (!LegacyText.TryParseUInt64(start, 16, out var startAddress, out _) ||
            !LegacyText.TryParseUInt64(end, 16, out var limit, out _))
        {
            return false;
        }

        ulong offsetValue = 0;
        if (offset.Length > 0 && !LegacyText.TryParseUInt64(offset, 16, out offsetValue, out _))
        {
            return false;
        }

        mapping = new Mapping
        {
            Start = startAddress,
            Limit = limit,
            Offset = offsetValue,
            File = LegacyText.String(file),
            BuildId = LegacyText.String(buildId),
        };
        return true;
    }

    private static ReadOnlySpan<byte> Group(ReadOnlySpan<byte> line, Span<int> captures, int group) =>
        captures[2 * group] < 0 ? default : line[captures[2 * group]..captures[(2 * group) + 1]];

    /// <summary>Go's massageMappings: joins split mappings and moves the main binary to the front.</summary>
    private static void MassageMappings(Profile profile)
    {
        var mappings = profile.Mappings;
        if (mappings.Count > 1)
        {
            var joined = new List<Mapping> { mappings[0] };
            for (var i = 1; i < mappings.Count; i++)
            {
                var m = mappings[i];
                var last = joined[^1];
                if (Adjacent(last, m))
                {
                    last.Limit = m.Limit;
                    if (m.File.Length > 0)
                    {
                        last.File = m.File;
                    }

                    if (m.BuildId.Length > 0)
                    {
                        last.BuildId = m.BuildId;
                    }

                    continue;
                }

                joined.Add(m);
            }

            mappings.Clear();
            mappings.AddRange(joined);
        }

        for (var i = 0; i < mappings.Count; i++)
        {
            var file = mappings[i].File.Replace("(deleted)", "", StringComparison.Ordinal);
            file = LegacyText.String(LegacyText.TrimSpace(System.Text.Encoding.UTF8.GetBytes(file)));
            if (file.Length == 0 || IsSharedLibrary(file) || file[0] == '[')
            {
                continue;
            }

            (mappings[0], mappings[i]) = (mappings[i], mappings[0]);
            break;
        }

        for (var i = 0; i < mappings.Count; i++)
        {
            mappings[i].Id = (ulong)(i + 1);
        }
    }

    /// <summary>Go's libRx: <c>([.]so$|[.]so[._][0-9]+)</c>.</summary>
    private static bool IsSharedLibrary(string file)
    {
        for (var i = file.IndexOf(".so", StringComparison.Ordinal); i >= 0; i = file.IndexOf(".so", i + 1, StringComparison.Ordinal))
        {
            var after = i + 3;
            if (after == file.Length)
            {
                return true;
            }

            if (file[after] is '.' or '_' && after + 1 < file.Length && char.IsAsciiDigit(file[after + 1]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Adjacent(Mapping m1, Mapping m2)
    {
        if (m1.File.Length > 0 && m2.File.Length > 0 && m1.File != m2.File)
        {
            return false;
        }

        if (m1.BuildId.Length > 0 && m2.BuildId.Length > 0 && m1.BuildId != m2.BuildId)
        {
            return false;
        }

        if (m1.Limit != m2.Start)
        {
            return false;
        }

        if (m1.Offset != 0 && m2.Offset != 0)
        {
            var offset = unchecked(m1.Offset + (m1.Limit - m1.Start));
            if (offset != m2.Offset)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Keeps the locations samples use, numbered in the order samples first use them.</summary>
    public static void RemapLocationIds(Profile profile)
    {
        var seen = new HashSet<Location>(ReferenceEqualityComparer.Instance);
        var locations = new List<Location>();
        foreach (var sample in profile.Samples)
        {
            foreach (var location in sample.Locations)
            {
                if (seen.Add(location))
                {
                    location.Id = (ulong)(locations.Count + 1);
                    locations.Add(location);
                }
            }
        }

        profile.Locations.Clear();
        profile.Locations.AddRange(locations);
    }

    public static void RemapFunctionIds(Profile profile)
    {
        var seen = new HashSet<Function>(ReferenceEqualityComparer.Instance);
        var functions = new List<Function>();
        foreach (var location in profile.Locations)
        {
            foreach (var line in location.Lines)
            {
                if (line.Function is { } function && seen.Add(function))
                {
                    function.Id = (ulong)(functions.Count + 1);
                    functions.Add(function);
                }
            }
        }

        profile.Functions.Clear();
        profile.Functions.AddRange(functions);
    }

    /// <summary>Go's remapMappingIDs, with its heuristics for handlers that describe mappings wrongly.</summary>
    public static void RemapMappingIds(Profile profile)
    {
        var mappings = profile.Mappings;
        if (mappings.Count > 1 && mappings[0].File.StartsWith("/anon_hugepage", StringComparison.Ordinal) &&
            mappings[0].Limit == mappings[1].Start)
        {
            mappings.RemoveAt(0);
        }

        const ulong ExpectedStart = 0x400000;
        if (mappings.Count > 0 && unchecked(mappings[0].Start - mappings[0].Offset) == ExpectedStart)
        {
            mappings[0].Start = ExpectedStart;
            mappings[0].Offset = 0;
        }

        Mapping? fake = null;
        foreach (var location in profile.Locations)
        {
            var address = location.Address;
            if (location.Mapping is not null || address == 0)
            {
                continue;
            }

            location.Mapping = FindMapping(mappings, address);
            if (location.Mapping is null)
            {
                if (fake is null)
                {
                    fake = new Mapping { Id = 1, Limit = ulong.MaxValue };
                    mappings.Add(fake);
                }

                location.Mapping = fake;
            }
        }

        for (var i = 0; i < mappings.Count; i++)
        {
            mappings[i].Id = (ulong)(i + 1);
        }
    }

    private static Mapping? FindMapping(List<Mapping> mappings, ulong address)
    {
        foreach (var m in mappings)
        {
            if (m.Start <= address && address < m.Limit)
            {
                return m;
            }
        }

        // Legacy handlers failed to report the first part of mappings split into adjacent ranges.
        foreach (var m in mappings)
        {
            if (m.Offset != 0 && unchecked(m.Start - m.Offset) <= address && address < m.Start)
            {
                m.Start -= m.Offset;
                m.Offset = 0;
                return m;
            }
        }

        return null;
    }

    /// <summary>
    /// Go's strings.Replacer over "$name=value" lines seen in the map: at each position the earliest
    /// added name that matches wins.
    /// </summary>
    private sealed class AttributeReplacer
    {
        private readonly List<Node> _nodes = [new Node()];
        private int _count;
        private byte[] _buffer = [];

        private sealed class Node
        {
            public Dictionary<byte, int>? Children { get; set; }

            public int Priority { get; set; } = int.MaxValue;

            public byte[]? Value { get; set; }
        }

        public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            var node = _nodes[0];
            node = Step(node, (byte)'$');
            foreach (var b in name)
            {
                node = Step(node, b);
            }

            if (node.Priority == int.MaxValue)
            {
                node.Priority = _count;
                node.Value = value.ToArray();
            }

            _count++;
        }

        private Node Step(Node node, byte b)
        {
            node.Children ??= [];
            if (!node.Children.TryGetValue(b, out var index))
            {
                index = _nodes.Count;
                _nodes.Add(new Node());
                node.Children[b] = index;
            }

            return _nodes[index];
        }

        public ReadOnlySpan<byte> Replace(ReadOnlySpan<byte> line)
        {
            if (_count == 0 || line.IndexOf((byte)'$') < 0)
            {
                return line;
            }

            var output = new List<byte>(line.Length);
            var budget = (16L * line.Length) + 65536;
            var i = 0;
            while (i < line.Length)
            {
                var best = int.MaxValue;
                var bestLength = 0;
                byte[]? bestValue = null;
                var node = _nodes[0];
                for (var j = i; j < line.Length; j++)
                {
                    if (node.Children is null || !node.Children.TryGetValue(line[j], out var next))
                    {
                        break;
                    }

                    if (--budget < 0)
                    {
                        // Names that nearly match everywhere make the substitution quadratic (in Go too).
                        throw LegacyProfileParser.Malformed("memory map attribute substitution too complex");
                    }

                    node = _nodes[next];
                    if (node.Priority < best)
                    {
                        (best, bestLength, bestValue) = (node.Priority, j - i + 1, node.Value);
                    }
                }

                if (bestValue is null)
                {
                    output.Add(line[i]);
                    i++;
                    continue;
                }

                output.AddRange(bestValue);
                i += bestLength;
                if (output.Count > GoRegex.MaxInputLength)
                {
                    break;
                }
            }

            if (output.Count > GoRegex.MaxInputLength)
            {
                // Go would build the line whatever its size; past this it can only be an attack.
                throw LegacyProfileParser.Malformed("memory map line too long after attribute substitution");
            }

            _buffer = [.. output];
            return _buffer;
        }
    }
}
