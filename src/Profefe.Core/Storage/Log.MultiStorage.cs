using Microsoft.Extensions.Logging;

namespace Profefe.Core;

// MultiProfileStorage's part of Core's Log class; EventIds 1910-1919 are reserved for it.
internal static partial class Log
{
    [LoggerMessage(EventId = CoreEventIds.MultiWriteFailed, Level = LogLevel.Warning, Message = "Writing profile {ProfileId} to storage {Backend} failed; the request fails, the profile is stored in: {StoredIn}")]
    public static partial void MultiWriteFailed(ILogger logger, string profileId, string backend, string storedIn, Exception exception);

    [LoggerMessage(EventId = CoreEventIds.MultiRetentionFailed, Level = LogLevel.Warning, Message = "Retention on storage {Backend} failed; the other backends ran")]
    public static partial void MultiRetentionFailed(ILogger logger, string backend, Exception exception);
}
