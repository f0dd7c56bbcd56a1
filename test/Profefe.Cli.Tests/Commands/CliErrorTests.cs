using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Cli.Tests.Commands;

/// <summary>
/// The mistakes of a new user's first hour (issue 18): each ends as one line saying what was wrong and what to
/// do, with a non-zero exit, and the stack trace only with --verbose.
/// </summary>
public sealed class CliErrorTests
{
    private const string EveryInterface = "use 127.0.0.1:10150 (this machine only) or :10150 (every interface)";

    [Theory]
    [InlineData("foo", "--addr \"foo\" has no port: use host:port, such as 127.0.0.1:10100 (this machine only) or :10100 (every interface)")]
    [InlineData("10150", "--addr \"10150\" has no host: " + EveryInterface)]
    [InlineData("127.0.0.1:99999", "--addr \"127.0.0.1:99999\": the port must be a number from 1 to 65535, not \"99999\"")]
    [InlineData("foo:10100", "--addr \"foo:10100\": the host must be an IP address of this machine, localhost, or empty for every interface (:10100)")]
    [InlineData("::1:10100", "--addr \"::1:10100\": put an IPv6 address in brackets, such as [::1]:10100")]
    public async Task Serve_FailsWithOneLine_WhenTheAddressIsWrong(string address, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "profefe-never-created-" + Guid.NewGuid().ToString("N"));

        var result = await ProfefeProcess.RunAsync(["serve", "--addr", address, "--data-dir", dataDirectory], ct);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"profefe serve: {expected}\n", result.Error);
        Assert.Equal("", result.Output);
        Assert.False(Directory.Exists(dataDirectory));
    }

    [Fact]
    public async Task Serve_FailsWithOneLineAndNoStackTraces_WhenThePortIsInUse()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-serve-busy-").FullName;
        try
        {
            var address = $"127.0.0.1:{collector.BaseAddress.Port}";

            var result = await ProfefeProcess.RunAsync(["serve", "--addr", address, "--data-dir", dataDirectory], ct);

            Assert.Equal(1, result.ExitCode);
            Assert.Equal($"profefe serve: cannot listen on {address}: the address is in use (is another collector running?); choose another port with --addr\n", result.Error);
            AssertNoStackTraces(result.Output);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_FailsWithOneLine_WhenTheDataDirectoryIsAFile()
    {
        var ct = TestContext.Current.CancellationToken;
        var file = Path.GetTempFileName();
        try
        {
            var result = await ProfefeProcess.RunAsync(["serve", "--addr", $"127.0.0.1:{FreePort.Next()}", "--data-dir", file], ct);

            Assert.Equal(1, result.ExitCode);
            Assert.Equal(
                $"profefe serve: cannot open the store: local store: cannot use data directory {file}: The file '{file}' already exists; give --data-dir a directory this user can create and write\n",
                result.Error);
            AssertNoStackTraces(result.Output);

            // --verbose: the same line, then the whole exception.
            var verbose = await ProfefeProcess.RunAsync(["serve", "--addr", $"127.0.0.1:{FreePort.Next()}", "--data-dir", file, "--verbose"], ct);
            Assert.Equal(1, verbose.ExitCode);
            Assert.StartsWith(result.Error + "Profefe.Core.Storage.StorageUnavailableException: ", verbose.Error, StringComparison.Ordinal);
            Assert.Contains("\n   at ", verbose.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ClientCommands_FailNamingTheRootAddress_WhenTheCollectorUrlHasAPath()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var root = collector.AddressText;
        var wrong = root + "/api/0";
        var expected = $"{wrong}/ is not a profefe collector (GET {wrong}/api/0/version answered 404): give the collector's root address, {root}, without /api/0\n";
        var output = Path.Combine(Path.GetTempPath(), "profefe-never-written-" + Guid.NewGuid().ToString("N"));
        string[][] commands =
        [
            ["services"],
            ["find", "-s", "api"],
            ["get", "bpc00mript33iv4net00", "-o", output],
            ["merge", "-s", "api", "-t", "cpu", "-o", output],
            ["top", "-s", "api", "-t", "cpu"],
            ["top", "-s", "api"],
        ];

        foreach (var command in commands)
        {
            var result = await CliRunner.RunAsync([.. command, "--collector", wrong], ct);

            Assert.True(result.ExitCode == 1, $"{string.Join(' ', command)}: {result}");
            Assert.Equal($"profefe {command[0]}: {expected}", result.Error);
        }

        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task ClientCommands_FailNamingTheAddress_WhenNothingListensThere()
    {
        var ct = TestContext.Current.CancellationToken;
        var address = $"http://127.0.0.1:{FreePort.Next()}";

        var result = await CliRunner.RunAsync(["services", "--collector", address], ct);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"profefe services: cannot reach the collector at {address}/: ", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task QueryCommands_SayWhatWasLookedFor_WhenNothingIsStored()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var address = collector.AddressText;
        string[] range = ["--from", "2026-01-01T00:00:00", "--to", "2026-01-02T00:00:00"];
        const string Range = "from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z: a profile's created_at is the time it was taken (recorded in the profile), so widen --from/--to for older ones";

        var services = await CliRunner.RunAsync(["services", "--collector", address], ct);
        var find = await CliRunner.RunAsync(["find", "-s", "api", .. range, "--collector", address], ct);
        var merge = await CliRunner.RunAsync(["merge", "-s", "api", "-t", "cpu", "-l", "region=eu", .. range, "-o", "-", "--collector", address], ct);
        var top = await CliRunner.RunAsync(["top", "-s", "api", .. range, "--collector", address], ct);

        // An empty answer is not a failure; a merge or top of nothing is.
        Assert.Equal((0, "", "no services: the collector has no profiles yet (profefe push adds some)\n"), (services.ExitCode, services.Output, services.Error));
        Assert.Equal((0, "", $"no profiles of service \"api\" {Range}\n"), (find.ExitCode, find.Output, find.Error));
        Assert.Equal((1, $"profefe merge: no cpu profiles of service \"api\" labelled region=eu {Range}\n"), (merge.ExitCode, merge.Error));
        Assert.Equal((1, $"profefe top: no profiles of service \"api\" {Range}\n"), (top.ExitCode, top.Error));
    }

    [Fact]
    public async Task Get_ShowsTheCollectorsReason_WhenTheProfilesCannotBeMerged()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var cpu = await collector.Api.PushProfileAsync("api", "cpu", null, TestData.Read("go/cpu_hash_01.pb.gz"), cancellationToken: ct);
        var heap = await collector.Api.PushProfileAsync("api", "heap", null, TestData.Read("go/heap_01.pb.gz"), cancellationToken: ct);

        var result = await CliRunner.RunAsync(["get", cpu.Id, heap.Id, "-o", "-", "--collector", collector.AddressText], ct);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"profefe get: failed to get profile by id \"{cpu.Id}+{heap.Id}\": incompatible period types cpu/nanoseconds and space/bytes\n", result.Error);
    }

    [Fact]
    public async Task Top_TakesTheServicesOnlyType_AndAsksForOne_WhenThereAreSeveral()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var address = collector.AddressText;
        await collector.Api.PushProfileAsync("api", "cpu", null, TestData.Read("go/cpu_hash_01.pb.gz"), cancellationToken: ct);
        string[] top = ["top", "-s", "api", "--from", "2000-01-01", "-n", "3", "--collector", address];

        var onlyCpu = await CliRunner.RunAsync(top, ct);
        await collector.Api.PushProfileAsync("api", "heap", null, TestData.Read("go/heap_01.pb.gz"), cancellationToken: ct);
        var cpuAndHeap = await CliRunner.RunAsync(top, ct);
        var help = await CliRunner.RunAsync(["top", "--help"], ct);

        Assert.True(onlyCpu.ExitCode == 0, onlyCpu.ToString());
        Assert.Equal("Type: cpu", onlyCpu.OutputLines[0]);
        Assert.Equal((1, "profefe top: service \"api\" has cpu, heap profiles in the time range: choose one with --type\n"), (cpuAndHeap.ExitCode, cpuAndHeap.Error));
        Assert.Contains("(default: the one type the service has in the time range)", help.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Top_NamesTheProfilesSampleTypes_WhenTheSampleIndexIsUnknown()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var cpu = await collector.Api.PushProfileAsync("api", "cpu", null, TestData.Read("go/cpu_hash_01.pb.gz"), cancellationToken: ct);

        var result = await CliRunner.RunAsync(["top", cpu.Id, "--sample-index", "nope", "--collector", collector.AddressText], ct);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("profefe top: --sample-index \"nope\": the profile has no such sample type; choose one of: samples, cpu\n", result.Error);
    }

    [Fact]
    public async Task Verbose_AddsTheStackTrace_OnlyWhenAsked()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] args = ["find", "-s", "api", "--from", "yesterday"];

        var plain = await CliRunner.RunAsync(args, ct);
        var verbose = await CliRunner.RunAsync([.. args, "--verbose"], ct);

        const string Line = "profefe find: invalid time \"yesterday\" (use 2006-01-02T15:04:05 in UTC, RFC 3339 such as 2006-01-02T15:04:05+02:00, \"now\", or an offset such as -1h, -30m, -7d)\n";
        Assert.Equal((1, Line), (plain.ExitCode, plain.Error));
        Assert.Equal(1, verbose.ExitCode);
        Assert.StartsWith(Line + "System.FormatException: ", verbose.Error, StringComparison.Ordinal);
        Assert.Contains("\n   at ", verbose.Error, StringComparison.Ordinal);
    }

    private static void AssertNoStackTraces(string log)
    {
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", log, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", log, StringComparison.Ordinal);
        Assert.True(log.Length < 2000, log);
    }
}
