using Microsoft.Extensions.Logging;
using Profefe.Core.Profiles;

namespace Profefe.Core;

internal static partial class Log
{
    [LoggerMessage(EventId = CoreEventIds.ProfileCollected, Level = LogLevel.Debug, Message = "Collected profile {ProfileId} of {Service} ({Type}, {Bytes} bytes)")]
    public static partial void ProfileCollected(ILogger logger, ProfileId profileId, string service, ProfileType type, int bytes);

    [LoggerMessage(EventId = CoreEventIds.ProfileRewritten, Level = LogLevel.Information, Message = "Profile of {Service} needed rewriting to be valid; stored {StoredBytes} bytes instead of the {ReceivedBytes} received")]
    public static partial void ProfileRewritten(ILogger logger, string service, int receivedBytes, int storedBytes);

    [LoggerMessage(EventId = CoreEventIds.MergeFailed, Level = LogLevel.Warning, Message = "Could not merge stored profiles ({What})")]
    public static partial void MergeFailed(ILogger logger, string what, Exception exception);
}
