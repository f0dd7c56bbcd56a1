using Profefe.Core.Profiles;
using Profefe.Core.Storage;

namespace Profefe.IngestCeiling;

/// <summary>Acknowledges every profile and keeps none: what is left of a push is the collector's own work.</summary>
internal sealed class DiscardingProfileWriter : IProfileWriter
{
    public Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => Task.CompletedTask;
}
