using System.CommandLine;
using Profefe.Cli.Commands;

var root = new RootCommand("profefe: a continuous-profiling collector (wire-compatible with profefe's API v0) and its tools");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(ScrapeCommand.Create());
root.Subcommands.Add(PushCommand.Create());
root.Subcommands.Add(ServicesCommand.Create());
root.Subcommands.Add(FindCommand.Create());
root.Subcommands.Add(GetCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
root.Subcommands.Add(TopCommand.Create());
root.Subcommands.Add(AgentCommand.Create());

// Long enough for `serve` to finish in-flight requests after SIGTERM (the host waits up to 30 s).
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(35) };
return await root.Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
