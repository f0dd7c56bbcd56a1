using System.Buffers.Binary;
using Profefe.Core.Profiles;

namespace Profefe.Storage.Local.Tests;

/// <summary>
/// The writer process of the crash test. The test starts this test assembly again with
/// <see cref="DirectoryVariable"/> set; Program then runs the writer instead of the tests, printing
/// "ack &lt;id&gt;" after each acknowledged write until the test kills it with SIGKILL.
/// </summary>
internal static class CrashWriter
{
    public const string DirectoryVariable = "PROFEFE_TEST_CRASH_WRITER_DIR";
    public const string Service = "crash";

    /// <summary>The bytes stored for <paramref name="id"/>: derived from it, so the test can check them after the crash.</summary>
    public static byte[] DataFor(ProfileId id)
    {
        var seed = (ulong)id.GetHashCode() | 1;
        var data = new byte[1_000 + (int)(seed % 30_000)];
        for (var i = 0; i + 8 <= data.Length; i += 8)
        {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(i), seed);
        }

        return data;
    }

    public static int Run(string directory)
    {
        using var storage = new LocalProfileStorage(new LocalStorageOptions { DataDirectory = directory });
        var output = Console.Out;
        output.WriteLine("ready");
        var writers = new Task[8];
        for (var w = 0; w < writers.Length; w++)
        {
            var writer = w;
            writers[w] = Task.Run(async () =>
            {
                for (var n = 0; ; n++)
                {
                    var id = ProfileId.NewId(DateTime.UtcNow);
                    var meta = new ProfileMeta(id, ProfileType.Cpu, Service, [new Label("writer", writer.ToString(System.Globalization.CultureInfo.InvariantCulture))], DateTime.UtcNow);
                    await storage.WriteProfileAsync(meta, DataFor(id), CancellationToken.None);
                    lock (output)
                    {
                        output.WriteLine("ack " + id);
                        output.Flush();
                    }
                }
            });
        }

        Task.WaitAll(writers);
        return 0;
    }
}
