namespace Profefe.Pprof.Legacy;

/// <summary>
/// Go's <c>bufio.Scanner</c> with <c>ScanLines</c> over an in-memory buffer, including its quirks the
/// legacy parsers depend on: a trailing '\r' is dropped, the text after a failed Scan is empty, lines
/// of 64 KiB or more stop the scan with "token too long" (after which one more Scan hands back the
/// first 64 KiB of that line).
/// </summary>
internal ref struct GoLineScanner
{
    public const int MaxTokenSize = 64 * 1024;

    public const string TokenTooLong = "bufio.Scanner: token too long";

    private readonly ReadOnlySpan<byte> _data;
    private int _pos;
    private int _tokenStart;
    private int _tokenLength;
    private int _tooLongStart;

    public GoLineScanner(ReadOnlySpan<byte> data)
    {
        _data = data;
        _tooLongStart = -1;
    }

    /// <summary>Go's Err(): null, or the text of the error that stopped the scan.</summary>
    public string? Error { get; private set; }

    public readonly ReadOnlySpan<byte> Text => _data.Slice(_tokenStart, _tokenLength);

    public bool Scan()
    {
        if (Error is not null)
        {
            if (_tooLongStart >= 0)
            {
                SetToken(_tooLongStart, MaxTokenSize);
                _tooLongStart = -1;
                return true;
            }

            SetToken(0, 0);
            return false;
        }

        if (_pos >= _data.Length)
        {
            SetToken(0, 0);
            return false;
        }

        var rest = _data[_pos..];
        var newline = rest.IndexOf((byte)'\n');
        var length = newline >= 0 ? newline : rest.Length;
        if (length >= MaxTokenSize)
        {
            Error = TokenTooLong;
            _tooLongStart = _pos;
            _pos = _data.Length;
            SetToken(0, 0);
            return false;
        }

        SetToken(_pos, length);
        _pos += newline >= 0 ? newline + 1 : length;
        return true;
    }

    private void SetToken(int start, int length)
    {
        if (length > 0 && _data[start + length - 1] == (byte)'\r')
        {
            length--;
        }

        _tokenStart = start;
        _tokenLength = length;
    }
}
