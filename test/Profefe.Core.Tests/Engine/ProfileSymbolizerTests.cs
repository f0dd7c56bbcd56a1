using Profefe.Core.Engine;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Engine.Symbols;
using Profefe.Core.Profiles;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Engine;

namespace Profefe.Core.Tests.Engine;

public sealed class ProfileSymbolizerTests
{
    private static readonly DateTime BaseTime = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    public static TheoryData<string> CorpusFiles()
    {
        var files = new TheoryData<string>();
        foreach (var line in File.ReadLines(TestData.PathOf("MANIFEST.tsv")).Skip(1))
        {
            var fields = line.Split('\t');
            if (fields[2] == "proto" && fields[11].Length == 0)
            {
                files.Add(fields[0]);
            }
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Symbolize_ThroughABlockAndBack_RebuildsEverySample(string file)
    {
        var original = ProfileDecoder.Decode(TestData.Read(file));
        var table = new SymbolTable();
        var row = new ProfileSymbolizer(table).Symbolize(original, ProfileId.NewId(BaseTime), BaseTime);

        var stored = Assert.Single(ProfileBlockCodec.Decode(ProfileBlockCodec.Encode([row])));
        var materializer = new ProfileMaterializer(table, stored.Header);
        materializer.AddRow(stored);
        var rebuilt = materializer.ToProfile();

        Assert.Equal(StackValues.Samples(original), StackValues.Samples(rebuilt));
        Assert.Equal(original.SampleTypes, rebuilt.SampleTypes);
        Assert.Equal(original.PeriodType, rebuilt.PeriodType);
        Assert.Equal(original.Period, rebuilt.Period);
        Assert.Equal(original.TimeNanos, rebuilt.TimeNanos);
        Assert.Equal(original.DurationNanos, rebuilt.DurationNanos);
        Assert.Equal(original.Comments, rebuilt.Comments);
        Assert.Equal(original.DefaultSampleType, rebuilt.DefaultSampleType);
        Assert.Equal(original.DropFrames, rebuilt.DropFrames);
        Assert.Equal(original.KeepFrames, rebuilt.KeepFrames);
        Assert.Equal(StackValues.Samples(original), StackValues.Samples(ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(rebuilt))));
    }

    [Fact]
    public void Symbolize_SameProfileAgainWithSharedStrings_AddsNoSymbolAndGivesTheSameRow()
    {
        // The block cutter's way: one symbolizer per table, profiles decoded into pooled strings.
        var options = new ProfileDecoderOptions { StringPool = new ProfileStringPool() };
        var table = new SymbolTable();
        var symbolizer = new ProfileSymbolizer(table);
        var first = symbolizer.Symbolize(ProfileDecoder.Decode(TestData.Read("go/cpu_hash_02.pb.gz"), options), ProfileId.NewId(BaseTime), BaseTime);
        var other = symbolizer.Symbolize(ProfileDecoder.Decode(TestData.Read("go/heap_01.pb.gz"), options), ProfileId.NewId(BaseTime), BaseTime);
        table.MarkDurable();
        var count = table.SymbolCount;

        var again = symbolizer.Symbolize(ProfileDecoder.Decode(TestData.Read("go/cpu_hash_02.pb.gz"), options), first.Id, BaseTime);
        var fresh = new ProfileSymbolizer(table).Symbolize(ProfileDecoder.Decode(TestData.Read("go/heap_01.pb.gz")), other.Id, BaseTime);

        Assert.False(table.HasPending);
        Assert.Equal(count, table.SymbolCount);
        Assert.Equal(first.Stacks, again.Stacks);
        Assert.Equal(first.LabelSets, again.LabelSets);
        Assert.Equal(first.Header.Layout, again.Header.Layout);
        Assert.Equal(other.Stacks, fresh.Stacks);
        Assert.Equal(other.Header.Layout, fresh.Header.Layout);
    }

    [Fact]
    public void Symbolize_IdsNotNumberedByPosition_GivesTheSameRowAsGoNumbering()
    {
        var table = new SymbolTable();
        var symbolizer = new ProfileSymbolizer(table);
        var numbered = symbolizer.Symbolize(ProfileDecoder.Decode(TestData.Read("go/cpu_hash_02.pb.gz")), ProfileId.NewId(BaseTime), BaseTime);
        table.MarkDurable();
        var count = table.SymbolCount;

        // Ids another profiler might give: sparse and out of table order (the symbolizer then finds entries by instance).
        var sparse = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_02.pb.gz"));
        foreach (var location in sparse.Locations)
        {
            location.Id = 1_000 - location.Id;
        }

        foreach (var function in sparse.Functions)
        {
            function.Id = (function.Id * 7) + 100;
        }

        var row = symbolizer.Symbolize(sparse, numbered.Id, BaseTime);

        Assert.Equal(numbered.Stacks, row.Stacks);
        Assert.Equal(count, table.SymbolCount);
    }

    [Fact]
    public void SymbolTable_DeltasRestoredInOrder_GiveTheSameIds()
    {
        var table = new SymbolTable();
        var symbolizer = new ProfileSymbolizer(table);
        var deltas = new List<byte[]>();
        var rows = new List<ProfileRow>();
        foreach (var file in (string[])["go/cpu_json_01.pb.gz", "go/cpu_json_02.pb.gz", "go/heap_01.pb.gz"])
        {
            rows.Add(symbolizer.Symbolize(ProfileDecoder.Decode(TestData.Read(file)), ProfileId.NewId(BaseTime), BaseTime));
            var writer = new ColumnWriter();
            table.WritePending(writer);
            deltas.Add(writer.ToArray());
            table.MarkDurable();
        }

        var restored = new SymbolTable();
        foreach (var delta in deltas)
        {
            restored.Restore(delta);
        }

        Assert.Equal(table.SymbolCount, restored.SymbolCount);
        Assert.False(restored.HasPending);
        foreach (var row in rows)
        {
            Assert.Equal(Rebuild(table, row), Rebuild(restored, row));
        }

        Assert.Throws<InvalidDataException>(() => restored.Restore(deltas[1]));
    }

    [Fact]
    public void SymbolTable_DiscardPending_ForgetsWhatAFailedCommitAdded()
    {
        var table = new SymbolTable();
        var symbolizer = new ProfileSymbolizer(table);
        var first = symbolizer.Symbolize(ProfileDecoder.Decode(TestData.Read("go/cpu_json_01.pb.gz")), ProfileId.NewId(BaseTime), BaseTime);
        table.MarkDurable();
        var durable = table.SymbolCount;

        symbolizer.Symbolize(ProfileDecoder.Decode(TestData.Read("go/heap_01.pb.gz")), ProfileId.NewId(BaseTime), BaseTime);
        Assert.True(table.HasPending);
        table.DiscardPending();

        Assert.Equal(durable, table.SymbolCount);
        Assert.False(table.HasPending);
        var again = symbolizer.Symbolize(ProfileDecoder.Decode(TestData.Read("go/cpu_json_01.pb.gz")), first.Id, BaseTime);
        Assert.Equal(first.Stacks, again.Stacks);
        Assert.False(table.HasPending);
    }

    [Fact]
    public void Aggregate_OfRowsAndOfAggregates_EqualsTheRawMerge()
    {
        var table = new SymbolTable();
        var symbolizer = new ProfileSymbolizer(table);
        var profiles = new List<Profile>();
        var whole = (ProfileAggregate?)null;
        var halves = new ProfileAggregate?[2];
        for (var i = 0; i < 12; i++)
        {
            var profile = ProfileDecoder.Decode(TestData.Read($"profefe/collector_cpu_{(i % 3) + 1}.prof"));
            // Zero times restart Go's fold of the header time: the aggregates must fold them the same way.
            profile.TimeNanos = i % 5 == 2 ? 0 : 1_000_000_000L * (100 - (i * 7 % 13));
            profiles.Add(profile);
            var row = symbolizer.Symbolize(profile, ProfileId.NewId(BaseTime), BaseTime.AddMinutes(i));
            whole ??= new ProfileAggregate(row.Header.Layout, profile.SampleTypes.Count);
            whole.Add(row);
            var half = halves[i / 6] ??= new ProfileAggregate(row.Header.Layout, profile.SampleTypes.Count);
            half.Add(row);
        }

        var combined = new ProfileAggregate(whole!.Layout, whole.Width);
        combined.Add(Reread(halves[0]!));
        combined.Add(Reread(halves[1]!));
        var expected = ProfileMerger.Merge(profiles);

        foreach (var aggregate in (ProfileAggregate[])[whole, combined])
        {
            var materializer = new ProfileMaterializer(table, aggregate.ToHeader());
            for (var i = 0; i < aggregate.EntryCount; i++)
            {
                var key = aggregate.KeyAt(i);
                materializer.AddSample(ProfileAggregate.StackOf(key), ProfileAggregate.LabelSetOf(key), aggregate.ValuesAt(i));
            }

            var merged = ProfileMerger.Merge([materializer.ToProfile()]);
            StackValues.AssertSame(StackValues.Of(expected), StackValues.Of(merged));
            Assert.Equal(StackValues.Totals(expected), aggregate.Totals);
            Assert.Equal(expected.TimeNanos, merged.TimeNanos);
            Assert.Equal(expected.DurationNanos, merged.DurationNanos);
            Assert.Equal(expected.Period, merged.Period);
            Assert.Equal(expected.Comments, merged.Comments);
            Assert.Equal(12, aggregate.Count);
        }
    }

    private static ProfileAggregate Reread(ProfileAggregate aggregate) => RollupCodec.Read(RollupCodec.Write(aggregate));

    private static List<string> Rebuild(SymbolTable table, ProfileRow row)
    {
        var materializer = new ProfileMaterializer(table, row.Header);
        materializer.AddRow(row);
        return StackValues.Samples(materializer.ToProfile());
    }
}
