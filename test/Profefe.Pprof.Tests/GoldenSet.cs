using Profefe.Testing;

namespace Profefe.Pprof.Tests;

/// <summary>
/// One folder of test/testdata/golden: input profiles and what go tool pprof -proto made of them. The
/// diff folder names a base and a target instead of a list of inputs.
/// </summary>
internal sealed record GoldenSet(string Name, IReadOnlyList<string> Inputs, string? Base)
{
    public static IEnumerable<string> Names()
    {
        var root = TestData.PathOf("golden");
        var names = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories(root))
        {
            if (File.Exists(Path.Combine(directory, "inputs.txt")))
            {
                names.Add(Path.GetFileName(directory));
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public static GoldenSet Load(string name)
    {
        var inputs = new List<string>();
        string? baseInput = null;
        foreach (var raw in File.ReadAllLines(TestData.PathOf($"golden/{name}/inputs.txt")))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("command:", StringComparison.Ordinal))
            {
                continue;
            }

            if (line.StartsWith("base:", StringComparison.Ordinal))
            {
                baseInput = line["base:".Length..].Trim();
            }
            else if (line.StartsWith("target:", StringComparison.Ordinal))
            {
                inputs.Add(line["target:".Length..].Trim());
            }
            else
            {
                inputs.Add(line);
            }
        }

        return new GoldenSet(name, inputs, baseInput);
    }

    public Profile Expected() => ProfileDecoder.Decode(TestData.Read($"golden/{Name}/merged.pb.gz"));

    public string TopText() => File.ReadAllText(TestData.PathOf($"golden/{Name}/merged.top.txt"));

    /// <summary>Our answer to the same question: the merge of the inputs, or the diff against the base.</summary>
    public Profile Actual()
    {
        if (Base is not null)
        {
            return ProfileDiff.Compute(Decode(Base), Decode(Inputs[0]));
        }

        var inputs = Inputs;
        var binary = TookFirstInputForBinary() ? Inputs[0] : null;
        if (binary is not null)
        {
            inputs = Inputs.Skip(1).ToList();
        }

        var merger = new ProfileMerger();
        foreach (var input in inputs)
        {
            merger.Add(Decode(input));
        }

        var merged = merger.ToProfile();
        if (binary is not null)
        {
            merged.Mappings[0].File = binary;
        }

        return merged;
    }

    /// <summary>
    /// go tool pprof reads its first argument as the program binary when it can ("pprof [binary] profile..."),
    /// and then names the main mapping after it. It did so for the legacy gperftools set: Go's output holds
    /// only the other input, its main mapping named after the first. Seen in the output, so it is mirrored.
    /// </summary>
    private bool TookFirstInputForBinary() =>
        Inputs.Count > 1
        && Expected() is { Mappings: [var main, ..] }
        && Path.GetFileName(main.File) == Path.GetFileName(Inputs[0]);

    private static Profile Decode(string input) => ProfileDecoder.Decode(TestData.Read(input));
}
