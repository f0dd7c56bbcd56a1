using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace Profefe.Server.Ui;

/// <summary>
/// Serves the UI's pages from resources embedded in the collector's assembly, so the single binary works from
/// any working directory and offline. The files are small and few; each is read once and kept.
/// </summary>
internal static class UiStaticFiles
{
    private const string ResourcePrefix = "ui/";

    private static readonly Dictionary<string, (byte[] Content, string ContentType, string ETag)> Files = Load();

    public static async Task ServeAsync(HttpContext context, string? file)
    {
        var name = string.IsNullOrEmpty(file) ? "index.html" : file;
        if (!Files.TryGetValue(name, out var entry))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("404 page not found\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.Headers.ETag = entry.ETag;
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        if (context.Request.Headers.IfNoneMatch == entry.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentType = entry.ContentType;
        response.ContentLength = entry.Content.Length;
        await response.Body.WriteAsync(entry.Content, context.RequestAborted).ConfigureAwait(false);
    }

    private static Dictionary<string, (byte[], string, string)> Load()
    {
        var assembly = typeof(UiStaticFiles).Assembly;
        var files = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var content = Read(assembly, resource);
            var etag = "\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content).AsSpan(0, 8)) + "\"";
            files.Add(resource[ResourcePrefix.Length..], (content, ContentTypeOf(resource), etag));
        }

        return files;
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
