using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Cli.Arguments;
using Profefe.Cli.Output;
using Profefe.Core.Storage;
using Profefe.Server;

namespace Profefe.Cli.Commands;

/// <summary>
/// <c>profefe serve</c>: runs the collector. Every flag is a configuration key that also comes from
/// appsettings.json and PROFEFE_-prefixed environment variables; a flag given wins over both.
/// </summary>
internal static class ServeCommand
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    public static Command Create()
    {
        var address = new Option<string?>("--addr")
        {
            Description = "Address to listen on, host:port (\":10100\" = every interface) [Collector:Address, default 127.0.0.1:10100]",
            HelpName = "HOST:PORT",
        };
        var dataDirectory = new Option<string?>("--data-dir")
        {
            Description = "Directory of the embedded store, created if missing [Storage:Local:DataDirectory, default ./data]",
            HelpName = "PATH",
        };
        var storage = new Option<string?>("--storage")
        {
            // The names come from the server's registry of backends, so the help cannot fall behind it.
            Description = "Storage backend: " + string.Join(" | ", Microsoft.Extensions.DependencyInjection.StorageServiceCollectionExtensions.SupportedStorageTypes)
                + " | a,b (write to several, read from the first) [Storage:Type, default local]",
            HelpName = "TYPE",
        };
        var retention = new Option<string?>("--retention")
        {
            Description = "Delete profiles older than this, e.g. 120h or 5d; 0 keeps them forever [Retention:Period, default 120h]",
            HelpName = "DURATION",
        };
        var retentionInterval = new Option<string?>("--retention-interval")
        {
            Description = "How often old profiles are deleted [Retention:Interval, default 1m]",
            HelpName = "DURATION",
        };
        var maxBodySize = new Option<string?>("--max-body-size")
        {
            Description = "Largest profile a POST may send, e.g. 32MiB; larger bodies get 413 [Collector:MaxBodyBytes, default 32MiB]",
            HelpName = "SIZE",
        };
        var maxDecompressedSize = new Option<string?>("--max-decompressed-size")
        {
            Description = "Largest size a gzip profile may inflate to; more is refused as a gzip bomb [Collector:MaxDecompressedBytes, default 64MiB]",
            HelpName = "SIZE",
        };
        var maxMerge = new Option<int?>("--max-merge")
        {
            Description = "Most profiles one merge request may combine; more get 400 [Collector:MaxMergeProfiles, default 1000]",
            HelpName = "COUNT",
        };

        var command = new Command("serve", "Run the collector: profefe's HTTP API v0 on an embedded store. "
            + "Options also come from appsettings.json and PROFEFE_ environment variables (e.g. PROFEFE_Storage__Local__DataDirectory).");
        command.Options.Add(address);
        command.Options.Add(dataDirectory);
        command.Options.Add(storage);
        command.Options.Add(retention);
        command.Options.Add(retentionInterval);
        command.Options.Add(maxBodySize);
        command.Options.Add(maxDecompressedSize);
        command.Options.Add(maxMerge);

        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            Set(settings, "Collector:Address", parseResult.GetValue(address));
            Set(settings, "Storage:Local:DataDirectory", parseResult.GetValue(dataDirectory));
            Set(settings, "Storage:Type", parseResult.GetValue(storage));
            Set(settings, "Retention:Period", Duration("--retention", parseResult.GetValue(retention)));
            Set(settings, "Retention:Interval", Duration("--retention-interval", parseResult.GetValue(retentionInterval)));
            Set(settings, "Collector:MaxBodyBytes", Size("--max-body-size", parseResult.GetValue(maxBodySize)));
            Set(settings, "Collector:MaxDecompressedBytes", Size("--max-decompressed-size", parseResult.GetValue(maxDecompressedSize)));
            if (parseResult.GetValue(maxMerge) is { } merge)
            {
                settings["Collector:MaxMergeProfiles"] = merge > 0
                    ? merge.ToString(CultureInfo.InvariantCulture)
                    : throw new CliUsageException($"--max-merge must be positive, not {merge}");
            }

            return await RunAsync(settings, !string.IsNullOrWhiteSpace(parseResult.GetValue(address)), CommandActions.IsVerbose(parseResult), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(Dictionary<string, string?> settings, bool addressFromFlag, bool verbose, CancellationToken cancellationToken)
    {
        var output = BufferedStandardOutput.Install();
        try
        {
            return await ServeAsync(settings, addressFromFlag, verbose, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (output is not null)
            {
                await output.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<int> ServeAsync(Dictionary<string, string?> settings, bool addressFromFlag, bool verbose, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = CollectorHost.Build(settings, builder =>
            {
                // A failed start is reported once, as one line, by the command (with the stack trace under
                // --verbose); the host's own report repeats it as a screenful of stack traces.
                if (!verbose)
                {
                    builder.Logging.AddFilter(HostCategory, LogLevel.Critical);
                }
            });
        }
        catch (FormatException e)
        {
            throw new CliUsageException((addressFromFlag ? "--addr " : "Collector:Address ") + e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            throw new CliUsageException(e.Message, e);
        }

        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Stopping what did start lets background services end quietly instead of reporting a crash.
                try
                {
                    await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception stopFailure) when (stopFailure is ArgumentNullException or InvalidOperationException or ObjectDisposedException)
                {
                    // The host failed before it had hosted services to stop; the start failure is the one to report.
                }

                throw StartFailure(e, settings);
            }

            // Stopping waits for requests in flight (Kestrel drains them), so acknowledged writes complete.
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Why the collector could not start, and what to change, as one line.</summary>
    private static Exception StartFailure(Exception e, Dictionary<string, string?> settings)
    {
        var address = settings.GetValueOrDefault("Collector:Address") ?? new CollectorListenOptions().Address;
        switch (e)
        {
            case OptionsValidationException validation:
                return new CliUsageException("bad configuration: " + string.Join("; ", validation.Failures), e);
            case StorageUnavailableException storage:
                var hint = storage.Dependency == "local"
                    ? "give --data-dir a directory this user can create and write"
                    : "check --storage and the Storage:* settings, and that the storage server is up";
                return new CliUsageException($"cannot open the store: {storage.Message.TrimEnd('.')}; {hint}", e);
        }

        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            var reason = inner switch
            {
                Microsoft.AspNetCore.Connections.AddressInUseException or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
                    => "the address is in use (is another collector running?); choose another port with --addr",
                SocketException { SocketErrorCode: SocketError.AddressNotAvailable } => "that is not an address of this machine; use 127.0.0.1:PORT (this machine only) or :PORT (every interface)",
                SocketException { SocketErrorCode: SocketError.AccessDenied } => "ports below 1024 need root; choose a port above 1024",
                SocketException socket => socket.Message,
                _ => null,
            };
            if (reason is not null)
            {
                return new CliUsageException($"cannot listen on {address}: {reason}", e);
            }
        }

        return e;
    }

    private static void Set(Dictionary<string, string?> settings, string key, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            settings[key] = value.Trim();
        }
    }

    private static string? Duration(string flag, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (GoDuration.TryParse(text, out var duration) && duration >= TimeSpan.Zero)
        {
            return duration.ToString("c", CultureInfo.InvariantCulture);
        }

        throw new CliUsageException($"{flag}: \"{text}\" is not a duration (e.g. 120h, 5d, 90m, 0)");
    }

    /// <summary>Bytes, with an optional K/M/G suffix (powers of 1024; "MB", "MiB" and "m" all mean MiB).</summary>
    internal static string? Size(string flag, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var span = text.Trim().AsSpan();
        var digits = 0;
        while (digits < span.Length && char.IsAsciiDigit(span[digits]))
        {
            digits++;
        }

        var multiplier = span[digits..].Trim().ToString().ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            _ => 0L,
        };
        if (digits == 0 || multiplier == 0 || !long.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || number <= 0 || number > long.MaxValue / multiplier)
        {
            throw new CliUsageException($"{flag}: \"{text}\" is not a size (e.g. 33554432, 32MiB, 512K)");
        }

        return (number * multiplier).ToString(CultureInfo.InvariantCulture);
    }
}
