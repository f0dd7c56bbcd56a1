using Profefe.Cli.Commands;

namespace Profefe.Cli.Tests.Commands;

public sealed class AgentCommandTests
{
    [Fact]
    public void IsProcess_ThisProcess_IsOne()
    {
        Assert.True(AgentCommand.IsProcess(Environment.ProcessId));
    }

    [Fact]
    public void IsProcess_AThreadOfThisProcess_IsNot()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "threads have ids of their own in /proc on Linux only");
        var thread = Directory.GetDirectories("/proc/self/task").Select(static d => int.Parse(Path.GetFileName(d), System.Globalization.CultureInfo.InvariantCulture)).First(id => id != Environment.ProcessId);

        // /proc answers for the thread's id as for a process, with this process's command line.
        Assert.True(Directory.Exists($"/proc/{thread}"));
        Assert.False(AgentCommand.IsProcess(thread));
    }
}
