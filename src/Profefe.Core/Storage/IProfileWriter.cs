using Profefe.Core.Profiles;

namespace Profefe.Core.Storage;

/// <summary>The write half of the storage seam (profefe's storage.Writer).</summary>
public interface IProfileWriter
{
    /// <summary>
    /// Stores <paramref name="data"/> under <paramref name="meta"/>. Returns only when the profile is durable:
    /// an acknowledged write survives a crash, a failed one leaves nothing behind.
    /// </summary>
    Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);
}
