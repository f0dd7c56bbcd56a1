using System.Reflection;

namespace Profefe.Testing;

/// <summary>Finds the repository's test data (test/testdata) wherever the build output was put.</summary>
public static class TestData
{
    public static string Directory { get; } = ReadMetadata("ProfefeTestDataDir");

    public static string RepoRoot { get; } = ReadMetadata("ProfefeRepoRoot");

    public static string PathOf(string relativePath) => System.IO.Path.Combine(Directory, relativePath);

    public static byte[] Read(string relativePath) => File.ReadAllBytes(PathOf(relativePath));

    private static string ReadMetadata(string key)
    {
        var assembly = Assembly.GetEntryAssembly() ?? Assembly.GetExecutingAssembly();
        foreach (var candidate in new[] { assembly, Assembly.GetExecutingAssembly() })
        {
            foreach (var attribute in candidate.GetCustomAttributes<AssemblyMetadataAttribute>())
            {
                if (attribute.Key == key && attribute.Value is { Length: > 0 } value)
                {
                    return value;
                }
            }
        }

        throw new InvalidOperationException($"assembly metadata {key} is missing; test/Directory.Build.props sets it");
    }
}
