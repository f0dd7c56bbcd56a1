using Microsoft.AspNetCore.Http;

namespace Profefe.Server.Limits;

/// <summary>What a request costs the collector, which decides the limits it is held to.</summary>
internal enum RequestKind
{
    /// <summary>Cheap or static: version, health, metrics, UI files.</summary>
    Other,

    /// <summary>A push of a profile (profefe's or Pyroscope's).</summary>
    Ingest,

    /// <summary>An index read: finds, services, labels, the UI's timeline and service list.</summary>
    Read,

    /// <summary>Decodes stored profiles: downloads, merges and the UI's views.</summary>
    Merge,
}

internal static class RequestKinds
{
    private const string PyroscopeQuerier = "/querier.v1.QuerierService/";

    public static RequestKind Of(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        if (path.StartsWith("/api/0/profiles", StringComparison.Ordinal))
        {
            var rest = path.AsSpan("/api/0/profiles".Length).Trim('/');
            if (rest.IsEmpty)
            {
                return HttpMethods.IsPost(request.Method) ? RequestKind.Ingest : RequestKind.Read;
            }

            return RequestKind.Merge;
        }

        if (path.StartsWith("/api/ui/", StringComparison.Ordinal))
        {
            return path is "/api/ui/profile" or "/api/ui/flame" or "/api/ui/compare" ? RequestKind.Merge : RequestKind.Read;
        }

        // Pyroscope's APIs are held to the same tokens, tenants and limits as profefe's.
        if (path is "/ingest" or "/pyroscope/ingest" or "/push.v1.PusherService/Push")
        {
            return RequestKind.Ingest;
        }

        if (path.StartsWith(PyroscopeQuerier, StringComparison.Ordinal))
        {
            return path.AsSpan(PyroscopeQuerier.Length) is "SelectMergeStacktraces" or "SelectMergeProfile" or "SelectSeries" or "Diff"
                ? RequestKind.Merge
                : RequestKind.Read;
        }

        if (path.StartsWith("/pyroscope/render", StringComparison.Ordinal))
        {
            return RequestKind.Merge;
        }

        return path.StartsWith("/api/0/", StringComparison.Ordinal) ? RequestKind.Read : RequestKind.Other;
    }
}
