using Profefe.Pprof.Proto;

namespace Profefe.Testing.Profiles;

/// <summary>The profile tables whose entries <see cref="ProfileWithoutIds"/> writes without an id.</summary>
[Flags]
public enum MissingIds
{
    None = 0,
    Mappings = 1,
    Functions = 2,
    Locations = 4,
}

/// <summary>
/// Writes a small CPU profile.proto whose chosen tables carry no ids (the field left out, so it reads as 0)
/// while the references to them count 1..N in table order, as Pyroscope's .NET profiler writes functions.
/// With <see cref="MissingIds.None"/> it is the same profile with real ids, readable by <c>go tool pprof</c>,
/// which tests compare against.
/// </summary>
public static class ProfileWithoutIds
{
    /// <summary>The sum of the cpu (nanoseconds) values of the samples.</summary>
    public const long CpuNanoseconds = 17 * 10_000_000;

    private static readonly string[] Strings =
    [
        "", "samples", "count", "cpu", "nanoseconds", "/app/Service.dll", "/usr/lib/libcoreclr.so",
        "Service.Program.Main", "Service.Worker.Run", "Service.Worker.Hash", "Service.Worker.Wait", "Program.cs",
        "Worker.cs", "coreclr!ThreadNative::Sleep",
    ];

    // Locations: (mapping position, function position, line); the last one is native code in the runtime.
    private static readonly (int Mapping, int Function, long Line)[] LocationTable =
    [
        (1, 1, 12), (1, 2, 30), (1, 3, 44), (1, 4, 51), (2, 5, 0),
    ];

    // Functions: (name, file) string indices.
    private static readonly (int Name, int File)[] FunctionTable = [(7, 11), (8, 12), (9, 12), (10, 12), (13, 6)];

    // Samples: stacks leaf first as location positions, and the sample count (times 10 ms of cpu).
    private static readonly (ulong[] Stack, long Count)[] SampleTable =
    [
        ([3, 2, 1], 9), ([5, 4, 2, 1], 3), ([2, 1], 4), ([1], 1),
    ];

    public static byte[] Write(MissingIds missing)
    {
        using var writer = new ProtoWriter();
        WriteValueType(writer, 1, 1, 2);
        WriteValueType(writer, 1, 3, 4);
        foreach (var (stack, count) in SampleTable)
        {
            var start = writer.BeginMessage(2);
            writer.WriteRepeated(1, stack);
            writer.WriteRepeated(2, [count, count * 10_000_000]);
            writer.EndMessage(start);
        }

        for (var i = 0; i < 2; i++)
        {
            var start = writer.BeginMessage(3);
            WriteId(writer, missing.HasFlag(MissingIds.Mappings), i);
            writer.WriteUInt64(2, 0x400000UL << i);
            writer.WriteUInt64(3, (0x400000UL << i) + 0x10000);
            writer.WriteUInt64(5, (ulong)(5 + i));
            writer.WriteUInt64(7, 1);
            writer.EndMessage(start);
        }

        for (var i = 0; i < LocationTable.Length; i++)
        {
            var (mapping, function, line) = LocationTable[i];
            var start = writer.BeginMessage(4);
            WriteId(writer, missing.HasFlag(MissingIds.Locations), i);
            writer.WriteUInt64(2, (ulong)mapping);
            writer.WriteUInt64(3, (0x400000UL << (mapping - 1)) + 0x100 + (ulong)(i * 16));
            var lineStart = writer.BeginMessage(4);
            writer.WriteUInt64(1, (ulong)function);
            writer.WriteInt64Optional(2, line);
            writer.EndMessage(lineStart);
            writer.EndMessage(start);
        }

        for (var i = 0; i < FunctionTable.Length; i++)
        {
            var start = writer.BeginMessage(5);
            WriteId(writer, missing.HasFlag(MissingIds.Functions), i);
            writer.WriteUInt64(2, (ulong)FunctionTable[i].Name);
            writer.WriteUInt64(3, (ulong)FunctionTable[i].Name);
            writer.WriteUInt64(4, (ulong)FunctionTable[i].File);
            writer.EndMessage(start);
        }

        foreach (var text in Strings)
        {
            writer.WriteString(6, text);
        }

        writer.WriteUInt64(9, 1_796_000_000_000_000_000);
        writer.WriteUInt64(10, 10_000_000_000);
        WriteValueType(writer, 11, 3, 4);
        writer.WriteUInt64(12, 10_000_000);
        return writer.WrittenSpan.ToArray();
    }

    private static void WriteId(ProtoWriter writer, bool missing, int position)
    {
        if (!missing)
        {
            writer.WriteUInt64(1, (ulong)position + 1);
        }
    }

    private static void WriteValueType(ProtoWriter writer, int field, ulong type, ulong unit)
    {
        var start = writer.BeginMessage(field);
        writer.WriteUInt64(1, type);
        writer.WriteUInt64(2, unit);
        writer.EndMessage(start);
    }
}
