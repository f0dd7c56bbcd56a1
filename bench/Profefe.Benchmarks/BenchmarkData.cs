using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace Profefe.Benchmarks;

/// <summary>
/// The repository's test/testdata, found by walking up to the folder holding Profefe.slnx from the working
/// directory, the binary (which PROFEFE_ARTIFACTS may put outside the repository) or this source file.
/// </summary>
internal static class BenchmarkData
{
    private static string? _directory;

    public static string Directory => _directory ??= Find();

    public static byte[] Read(string relativePath) => File.ReadAllBytes(Path.Combine(Directory, relativePath));

    public static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static string Find([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "" })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Profefe.slnx")))
                {
                    return Path.Combine(directory.FullName, "test", "testdata");
                }
            }
        }

        throw new DirectoryNotFoundException("no Profefe.slnx above the working directory, the binary or the source; run from the repository");
    }
}
