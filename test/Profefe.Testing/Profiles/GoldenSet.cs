using Profefe.Pprof;

namespace Profefe.Testing.Profiles;

/// <summary>
/// One folder of test/testdata/golden: input profiles and what go tool pprof -proto and -top made of them. The
/// diff folder names a base and a target instead of a list of inputs.
/// </summary>
public sealed record GoldenSet(string Name, IReadOnlyList<string> Inputs, string? Base)
{
    /// <summary>Every set, merges and diffs.</summary>
    public static IEnumerable<string> Names() => Names(diffs: true);

    /// <summary>The sets that merge their inputs (not the -diff_base ones).</summary>
    public static IEnumerable<string> MergeNames() => Names(diffs: false);

    private static List<string> Names(bool diffs)
    {
        var root = TestData.PathOf("golden");
        var names = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories(root))
        {
            if (File.Exists(Path.Combine(directory, "inputs.txt")) && (diffs || Load(Path.GetFileName(directory)).Base is null))
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

    /// <summary>The base of a diff set.</summary>
    public Profile BaseProfile() => Decode(Base ?? throw new InvalidOperationException($"{Name} is not a diff"));

    /// <summary>The target of a diff set (what go tool pprof compared with the base).</summary>
    public Profile TargetProfile() => Base is null ? throw new InvalidOperationException($"{Name} is not a diff") : Decode(Inputs[0]);

    /// <summary>Our answer to the same question: the merge of the inputs.</summary>
    public Profile Actual()
    {
        if (Base is not null)
        {
            throw new InvalidOperationException($"{Name} is a diff: compare its base and target");
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
