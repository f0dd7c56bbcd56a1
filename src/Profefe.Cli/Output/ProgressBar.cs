using System.Text;

namespace Profefe.Cli.Output;

/// <summary>A one-line progress bar redrawn in place with carriage returns; only for terminals.</summary>
internal sealed class ProgressBar(TextWriter terminal, int total)
{
    private const int Width = 30;
    private int _drawnLength;

    public void Draw(int done, int failed)
    {
        var filled = total == 0 ? Width : (int)((long)done * Width / total);
        var line = new StringBuilder("\r[")
            .Append('#', filled).Append('-', Width - filled)
            .Append("] ").Append(done).Append('/').Append(total);
        if (failed > 0)
        {
            line.Append(", ").Append(failed).Append(" failed");
        }

        var text = line.ToString();
        terminal.Write(text.PadRight(_drawnLength));
        terminal.Flush();
        _drawnLength = text.Length;
    }

    public void Clear()
    {
        if (_drawnLength > 0)
        {
            terminal.Write("\r" + new string(' ', _drawnLength) + "\r");
            terminal.Flush();
            _drawnLength = 0;
        }
    }
}
