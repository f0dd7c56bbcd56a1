using System.Text;

namespace Profefe.Cli.Output;

/// <summary>
/// Standard output for a collector process (<c>profefe serve</c>), written in blocks: the console logger writes each request's line
/// with its own write(2), which under ingest load cost about as much CPU as the rest of the logging together.
/// Lines wait at most <see cref="FlushInterval"/>; a crash may lose that much of the log, never a profile.
/// </summary>
public sealed class BufferedStandardOutput : IAsyncDisposable
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _original;
    private readonly TextWriter _buffered;
    private readonly PeriodicTimer _timer = new(FlushInterval);
    private readonly Task _flushing;

    private BufferedStandardOutput()
    {
        _original = Console.Out;
        var stream = Console.OpenStandardOutput();
        _buffered = TextWriter.Synchronized(new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024) { AutoFlush = false });
        Console.SetOut(_buffered);
        _flushing = FlushPeriodicallyAsync();
    }

    /// <summary>Buffers standard output until disposed, unless it is a terminal (someone is watching it live).</summary>
    public static BufferedStandardOutput? Install() => Console.IsOutputRedirected ? new BufferedStandardOutput() : null;

    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        await _flushing.ConfigureAwait(false);
        Console.SetOut(_original);
        Flush();
    }

    private async Task FlushPeriodicallyAsync()
    {
        while (await _timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            Flush();
        }
    }

    private void Flush()
    {
        try
        {
            _buffered.Flush();
        }
        catch (IOException)
        {
            // A closed pipe: the log has no reader any more, which must not stop the collector.
        }
    }
}
