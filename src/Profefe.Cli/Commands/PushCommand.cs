using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Profefe.Cli.Arguments;
using Profefe.Cli.Output;
using Profefe.Client;
using Profefe.Pprof;

namespace Profefe.Cli.Commands;

/// <summary><c>profefe push</c>: imports profile files into the collector (the successor of profefe's pprof_import.sh).</summary>
internal static class PushCommand
{
    public static Command Create()
    {
        var command = new Command("push", "Upload profile files (or every file under directories) to the collector");
        var service = new Option<string>("--service", "-s") { Description = "The service the profiles belong to", HelpName = "NAME", Required = true };
        var type = new Option<string>("--type", "-t")
        {
            Description = "The profiles' type: cpu, heap, block, mutex, goroutine, threadcreate, trace, other, or auto: each file's own, from its contents",
            HelpName = "TYPE",
            DefaultValueFactory = _ => ProfileTypeDetector.Auto,
        };
        var labels = new Option<string[]>("--label", "-l") { Description = "A label for every profile (repeatable)", HelpName = "KEY=VALUE" };
        var concurrency = new Option<int>("--concurrency", "-j") { Description = "How many uploads run at once", HelpName = "N", DefaultValueFactory = _ => 4 };
        var files = new Argument<string[]>("FILE") { Description = "Profile files or directories", Arity = ArgumentArity.OneOrMore };
        var collector = CollectorConnection.CreateCollectorOption();
        command.Options.Add(service);
        command.Options.Add(type);
        command.Options.Add(labels);
        command.Options.Add(concurrency);
        command.Options.Add(collector);
        command.Arguments.Add(files);
        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            var parallelism = parseResult.GetValue(concurrency);
            if (parallelism is < 1 or > 256)
            {
                throw new CliUsageException("--concurrency must be between 1 and 256");
            }

            var labelList = LabelArgument.ParseAll(parseResult.GetValue(labels));
            var paths = ExpandFiles(parseResult.GetValue(files) ?? []);
            if (paths.Count == 0)
            {
                throw new CliUsageException("no files to push: the directories are empty");
            }

            var typeName = parseResult.GetRequiredValue(type).Trim();
            var request = new PushRequest(
                parseResult.GetRequiredValue(service).Trim(),
                typeName.Equals(ProfileTypeDetector.Auto, StringComparison.OrdinalIgnoreCase) ? null : typeName,
                labelList,
                paths,
                parallelism);
            using var connection = CollectorConnection.Open(parseResult, collector, TimeSpan.FromMinutes(2));
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var onTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
            var failed = await PushAsync(connection.Client, request, output, onTerminal ? error : null, cancellationToken).ConfigureAwait(false);
            return failed == 0 ? 0 : CommandActions.Failed;
        });
        return command;
    }

    /// <summary>Files in the order given; directories expand to their files, sorted, recursively.</summary>
    public static IReadOnlyList<string> ExpandFiles(IEnumerable<string> paths)
    {
        var result = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var found = Directory.GetFiles(path, "*", SearchOption.AllDirectories);
                Array.Sort(found, StringComparer.Ordinal);
                result.AddRange(found);
            }
            else if (File.Exists(path))
            {
                result.Add(path);
            }
            else
            {
                throw new CliUsageException($"no such file or directory: {path}");
            }
        }

        return result;
    }

    /// <summary>Uploads every file; returns how many failed.</summary>
    /// <param name="progress">Where to draw a progress bar (a terminal), or null to print a line per file instead.</param>
    public static async Task<int> PushAsync(ProfefeClient client, PushRequest request, TextWriter output, TextWriter? progress, CancellationToken cancellationToken)
    {
        var results = new PushResult?[request.Files.Count];
        var bar = progress is null ? null : new ProgressBar(progress, request.Files.Count);
        var stopwatch = Stopwatch.StartNew();
        var gate = new object();
        var done = 0;
        var failed = 0;
        long bytes = 0;

        await Parallel.ForEachAsync(
            Enumerable.Range(0, request.Files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = request.Concurrency, CancellationToken = cancellationToken },
            async (index, ct) =>
            {
                var result = await PushOneAsync(client, request, request.Files[index], ct).ConfigureAwait(false);
                results[index] = result;
                lock (gate)
                {
                    done++;
                    if (result.Error is null)
                    {
                        bytes += result.Bytes;
                    }
                    else
                    {
                        failed++;
                    }

                    // On a terminal the bar shows progress and only failures get a line; elsewhere every file does.
                    if (bar is null)
                    {
                        output.WriteLine(result.Describe());
                    }
                    else
                    {
                        if (result.Error is not null)
                        {
                            bar.Clear();
                            output.WriteLine(result.Describe());
                        }

                        bar.Draw(done, failed);
                    }
                }
            }).ConfigureAwait(false);

        bar?.Clear();
        var seconds = stopwatch.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        output.WriteLine(
            failed == 0
                ? $"pushed {done} of {request.Files.Count} files ({FormatBytes(bytes)}) in {seconds}s"
                : $"pushed {done - failed} of {request.Files.Count} files ({FormatBytes(bytes)}) in {seconds}s; {failed} failed");
        if (failed > 0 && bar is not null)
        {
            // The failures scrolled by between bar redraws: repeat them in one block at the end.
            foreach (var result in results)
            {
                if (result?.Error is not null)
                {
                    output.WriteLine(result.Describe());
                }
            }
        }

        return failed;
    }

    private static async Task<PushResult> PushOneAsync(ProfefeClient client, PushRequest request, string file, CancellationToken cancellationToken)
    {
        byte[] data;
        try
        {
            data = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new PushResult(file, null, 0, CommandActions.OneLine(e.Message));
        }

        string type;
        try
        {
            type = request.Type ?? ProfileTypeDetector.Detect(data, file);
        }
        catch (ProfileFormatException e)
        {
            return new PushResult(file, null, data.Length, $"cannot tell its type ({CommandActions.OneLine(e.Message)}); give --type");
        }

        try
        {
            var info = await client.PushProfileAsync(request.Service, type, request.Labels, data, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new PushResult(file, info, data.Length, null);
        }
        catch (ProfefeApiException e)
        {
            return new PushResult(file, null, data.Length, CommandActions.OneLine(e.Message));
        }
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
    };
}

/// <param name="Type">The type of every file, or null to tell each file's type from its contents.</param>
internal sealed record PushRequest(string Service, string? Type, IReadOnlyList<ProfileLabel> Labels, IReadOnlyList<string> Files, int Concurrency);

internal sealed record PushResult(string File, ProfileInfo? Profile, long Bytes, string? Error)
{
    public string Describe() => Error is null
        ? $"ok      {File} {Profile!.Id} {Profile.Type} {Profile.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}"
        : $"FAILED  {File}: {Error}";
}
