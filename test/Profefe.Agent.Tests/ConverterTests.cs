using Profefe.Agent.Collection;
using Profefe.Pprof;

namespace Profefe.Agent.Tests;

public sealed class ConverterTests
{
    [Theory]
    [InlineData("Ns.Type.Method(int32,class System.String)", "Ns.Type.Method")]
    [InlineData("Ns.Type+<HandleAsync>d__0.MoveNext()", "Ns.Type+<HandleAsync>d__0.MoveNext")]
    [InlineData("Program.<Main>$", "Program.<Main>$")]
    public void TrimSignature_KeepsTheName_WithoutParameters(string fullName, string expected)
    {
        Assert.Equal(expected, StackResolver.TrimSignature(fullName));
    }

    [Theory]
    [InlineData("System.Threading.Thread.<PollGC>g__PollGCWorker|67_0", true)]
    [InlineData("System.Threading.Thread.PollGC", true)]
    [InlineData("System.Threading.Thread.Sleep", false)]
    [InlineData("MyApp.PollGCStats", false)]
    public void IsSafePointFrame_RecognisesTheRuntimesGcPoll(string name, bool expected)
    {
        Assert.Equal(expected, StackResolver.IsSafePointFrame(name));
    }

    [Theory]
    [InlineData("System.Threading.LowLevelLifoSemaphore.Wait", "System.Threading.PortableThreadPool+WorkerThread.WorkerThreadStart", true)]
    [InlineData("System.Threading.LowLevelSpinWaiter.Wait", "System.Threading.LowLevelLifoSemaphore.Wait", true)]
    [InlineData("System.Threading.LowLevelSpinWaiter.Wait", "App.Work", false)]
    [InlineData("App.Work", "System.Threading.LowLevelLifoSemaphore.Wait", false)]
    public void IsThreadPoolIdleSpin_RecognisesWorkersWaitingForWork(string leaf, string caller, bool expected)
    {
        Assert.Equal(expected, StackResolver.IsThreadPoolIdleSpin([new(1, leaf, "System.Private.CoreLib", 1), new(2, caller, "System.Private.CoreLib", 2)]));
    }

    [Fact]
    public void NativeModuleMap_FindsTheFileOfAnAddress()
    {
        var map = NativeModuleMap.Parse(
        [
            "7f0000000000-7f0000001000 r-xp 00000000 08:01 123 /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/libcoreclr.so",
            "7f0000001000-7f0000002000 rw-p 00000000 00:00 0 ",
            "7f0000002000-7f0000003000 r-xp 00000000 08:01 124 /tmp/libgone.so (deleted)",
            "garbage",
        ]);

        Assert.Equal("libcoreclr.so", map.FindModule(0x7f0000000800));
        Assert.Null(map.FindModule(0x7f0000001800));
        Assert.Equal("libgone.so", map.FindModule(0x7f0000002000));
        Assert.Null(map.FindModule(0x10));
    }

    [Fact]
    public void NativeModuleMap_ReadsTheCurrentProcess()
    {
        var map = NativeModuleMap.TryLoad(Environment.ProcessId);
        if (map is null)
        {
            Assert.Skip("/proc/PID/maps is not available here");
        }
    }

    [Fact]
    public void ProfileBuilder_WritesAValidProfile_WithTypeLeavesAndModuleMappings()
    {
        var builder = new ProfileBuilder([new("alloc_objects", "count"), new("alloc_space", "bytes")], new("space", "bytes"), 0, DateTimeOffset.UnixEpoch.AddSeconds(10), TimeSpan.FromSeconds(3));
        ResolvedFrame[] stack =
        [
            new(1, "App.Allocator.Make", "App", 0x2000),
            new(2, "App.Program.Main", "App", 0x1000),
        ];
        builder.Add(stack, "App.Widget", [10, 400], new(StringComparer.Ordinal) { ["type"] = ["App.Widget"] });
        builder.Add(stack, "System.String", [5, 100], new(StringComparer.Ordinal) { ["type"] = ["System.String"] });
        builder.Add([new(3, "[libcoreclr.so]", "libcoreclr.so", 0x9000)], "System.Byte[]", [1, 1000]);

        var decoded = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(builder.ToProfile()));

        Assert.Equal(3, decoded.Samples.Count);
        Assert.Equal(["App.Widget", "App.Allocator.Make", "App.Program.Main"], decoded.Samples[0].Locations.Select(l => l.Lines[0].Function!.Name));
        Assert.Equal("App.Widget", decoded.Samples[0].Labels!["type"][0]);
        Assert.Equal(10_000_000_000, decoded.TimeNanos);
        Assert.Equal(3_000_000_000, decoded.DurationNanos);
        Assert.Equal(["App", "libcoreclr.so"], decoded.Mappings.Select(m => m.File));
        var app = decoded.Mappings[0];
        Assert.True(app.Start <= 0x1000 && app.Limit > 0x2000 && app.HasFunctions);
        Assert.All(decoded.Functions, f => Assert.Equal("", f.SystemName));
    }
}
