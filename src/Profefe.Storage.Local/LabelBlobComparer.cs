namespace Profefe.Storage.Local;

/// <summary>Compares encoded label blobs by content.</summary>
internal sealed class LabelBlobComparer : IEqualityComparer<byte[]>
{
    public static LabelBlobComparer Instance { get; } = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var hash = new HashCode();
        hash.AddBytes(obj);
        return hash.ToHashCode();
    }
}
