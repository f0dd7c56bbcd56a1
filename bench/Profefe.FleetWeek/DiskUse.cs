using System.Globalization;

namespace Profefe.FleetWeek;

/// <summary>
/// The data directory's size split by role: the engine's database (engine.db and its WAL), the index
/// (profefe.db and its WAL) and the rest, which is the raw profiles' segment files.
/// </summary>
internal sealed record DiskUse(long Total, long Engine, long Index, long Raw)
{
    public static DiskUse Of(string dataDirectory)
    {
        long engine = 0, index = 0, raw = 0;
        foreach (var file in new DirectoryInfo(dataDirectory).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            if (file.Name.StartsWith("engine.db", StringComparison.Ordinal))
            {
                engine += file.Length;
            }
            else if (file.Name.StartsWith("profefe.db", StringComparison.Ordinal))
            {
                index += file.Length;
            }
            else
            {
                raw += file.Length;
            }
        }

        return new DiskUse(engine + index + raw, engine, index, raw);
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Total:N0} bytes: engine.db* {Engine:N0}, profefe.db* {Index:N0}, segments and the rest {Raw:N0}");
}
