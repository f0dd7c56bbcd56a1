namespace Profefe.Pprof.Tests;

/// <summary>One row of test/testdata/MANIFEST.tsv: what a corpus file holds and what profefe answered to it.</summary>
public sealed record CorpusEntry(
    string File,
    string Format,
    bool Gzip,
    string PeriodType,
    string SampleTypes,
    int? Samples,
    int? Locations,
    int? ProfefeStatus,
    string ParseError)
{
    public override string ToString() => File;
}

public static class CorpusManifest
{
    public static IReadOnlyList<CorpusEntry> Entries { get; } = Load();

    /// <summary>Proto files the reference profefe accepted.</summary>
    public static IEnumerable<CorpusEntry> AcceptedProto =>
        Entries.Where(e => e.Format == "proto" && e.ProfefeStatus == 200 && e.ParseError.Length == 0);

    public static TheoryData<string> AcceptedProtoFiles()
    {
        var data = new TheoryData<string>();
        foreach (var entry in AcceptedProto)
        {
            data.Add(entry.File);
        }

        return data;
    }

    public static CorpusEntry Get(string file) => Entries.Single(e => e.File == file);

    private static List<CorpusEntry> Load()
    {
        var lines = File.ReadAllLines(Profefe.Testing.TestData.PathOf("MANIFEST.tsv"));
        var header = lines[0].Split('\t');
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new InvalidOperationException($"MANIFEST.tsv has no column {name}");
        var file = Column("file");
        var format = Column("format");
        var gzip = Column("gzip");
        var periodType = Column("period_type");
        var sampleTypes = Column("sample_types");
        var samples = Column("samples");
        var locations = Column("locations");
        var status = Column("profefe_status");
        var parseError = Column("parse_error");
        var entries = new List<CorpusEntry>();
        foreach (var line in lines.Skip(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var cells = line.Split('\t');
            entries.Add(new CorpusEntry(
                cells[file],
                cells[format],
                cells[gzip] == "True",
                cells[periodType],
                cells[sampleTypes],
                int.TryParse(cells[samples], out var s) ? s : null,
                int.TryParse(cells[locations], out var l) ? l : null,
                int.TryParse(cells[status], out var st) ? st : null,
                cells[parseError]));
        }

        return entries;
    }
}
