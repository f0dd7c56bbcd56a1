using Microsoft.Extensions.DependencyInjection;
using Profefe.Cli.Output;
using Profefe.Core.Storage;
using Profefe.IngestCeiling;
using Profefe.Server;

// Usage: Profefe.IngestCeiling [HOST:PORT]. Serves until SIGTERM / Ctrl+C.
var address = args.Length > 0 ? args[0] : "127.0.0.1:10180";
var scratch = Directory.CreateTempSubdirectory("profefe-ceiling-");
var output = BufferedStandardOutput.Install();
try
{
    var app = CollectorHost.Build(
        new Dictionary<string, string?>
        {
            ["Collector:Address"] = address,
            // Finds, health and statistics still read the (empty) embedded store; pushes never reach it.
            ["Storage:Local:DataDirectory"] = scratch.FullName,
            ["Retention:Period"] = "00:00:00",

            // The ceiling is the point: the flood limits of issue 16 are lifted.
            ["Collector:IngestRate"] = "0",
            ["Collector:MaxConcurrentUploads"] = "4096",
            ["Collector:MaxLabelValuesPerKey"] = "1000000",
        },
        builder => builder.Services.AddSingleton<IProfileWriter, DiscardingProfileWriter>());
    await using (app.ConfigureAwait(false))
    {
        await app.RunAsync().ConfigureAwait(false);
    }
}
finally
{
    if (output is not null)
    {
        await output.DisposeAsync().ConfigureAwait(false);
    }

    scratch.Delete(recursive: true);
}
