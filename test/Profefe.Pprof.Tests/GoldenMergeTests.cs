using System.Diagnostics;
using Profefe.Testing;
using Profefe.Testing.Profiles;

namespace Profefe.Pprof.Tests;

/// <summary>
/// Acceptance 2: our merges equal go tool pprof's for every golden set (the diff set is checked by the top table
/// that shows diffs, in Profefe.Core.Tests).
/// </summary>
public sealed class GoldenMergeTests
{
    public static TheoryData<string> Sets() => [.. GoldenSet.MergeNames()];

    [Theory]
    [MemberData(nameof(Sets))]
    public void Merge_EqualsGo_ForGoldenSet(string name)
    {
        var set = GoldenSet.Load(name);
        var expected = set.Expected();

        var actual = set.Actual();

        Assert.Equal(expected.SampleTypes, actual.SampleTypes);
        Assert.Equal(StackValues.Totals(expected), StackValues.Totals(actual));
        StackValues.AssertSame(expected, actual);
        Assert.Equal(expected.PeriodType, actual.PeriodType);
        Assert.Equal(expected.Period, actual.Period);
        Assert.Equal(expected.TimeNanos, actual.TimeNanos);
        Assert.Equal(expected.DurationNanos, actual.DurationNanos);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void Merge_SurvivesEncodeAndDecode_ForGoldenSet(string name)
    {
        var merged = GoldenSet.Load(name).Actual();

        var decoded = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(merged));

        StackValues.AssertSame(merged, decoded);
    }

    /// <summary>
    /// go tool pprof -top prints for the merge we wrote exactly the table it printed for its own merge
    /// (everything after the header, which names the file and time).
    /// </summary>
    [Theory]
    [InlineData("go-cpu")]
    [InlineData("go-heap")]
    [InlineData("profefe-cpu")]
    public async Task Merge_PrintsLikeGosMerge_InGoPprofTop(string name)
    {
        var go = ExternalDependency.RequireExecutable("go", "apt-get install golang-go");
        var set = GoldenSet.Load(name);
        var file = Path.Combine(Path.GetTempPath(), $"profefe-merge-{name}-{Environment.ProcessId}.pb.gz");
        await File.WriteAllBytesAsync(file, ProfileEncoder.EncodeToArray(set.Actual()), TestContext.Current.CancellationToken);
        try
        {
            var printed = await RunAsync(go, ["tool", "pprof", "-top", "-nodecount=10000", file]);

            Assert.Equal(Table(set.TopText()), Table(printed));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Table(string top)
    {
        var start = top.IndexOf("Showing nodes", StringComparison.Ordinal);
        Assert.True(start >= 0, $"not a top listing:\n{top}");
        return top[start..].TrimEnd();
    }

    private static async Task<string> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed: {await error}");
        return await output;
    }

    [Fact]
    public void Merge_OfGoldenOutput_ChangesNoValue()
    {
        // Go's own merge result is already merged: merging it again may only renumber.
        var expected = GoldenSet.Load("go-cpu").Expected();

        var again = ProfileMerger.Merge([expected]);

        Assert.Equal(expected.Samples.Count, again.Samples.Count);
        Assert.Equal(expected.Locations.Count, again.Locations.Count);
        Assert.Equal(expected.Functions.Count, again.Functions.Count);
        StackValues.AssertSame(expected, again);
    }
}
