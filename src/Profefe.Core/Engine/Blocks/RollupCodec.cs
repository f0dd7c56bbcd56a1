namespace Profefe.Core.Engine.Blocks;

/// <summary>A rollup on disk: its <see cref="ProfileAggregate"/> in the engine's encoding, compressed like blocks.</summary>
public static class RollupCodec
{
    public static byte[] Write(ProfileAggregate aggregate)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        var writer = new ColumnWriter(8 * 1024);
        aggregate.WriteTo(writer);
        return ProfileBlockCodec.Compress(writer.Written);
    }

    /// <exception cref="InvalidDataException">the rollup is corrupt.</exception>
    public static ProfileAggregate Read(ReadOnlySpan<byte> data)
    {
        var reader = new ColumnReader(ProfileBlockCodec.Decompress(data));
        return ProfileAggregate.ReadFrom(ref reader);
    }
}
