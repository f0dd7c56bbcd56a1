using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Profefe.Server.Ui;

/// <summary>
/// Serves the UI's pages from resources embedded in the collector's assembly (ASP.NET Core's static files over
/// a <see cref="ManifestEmbeddedFileProvider"/>), so the single binary works from any working directory and
/// offline. Pages are revalidated on every load (no-cache, with the ETag), so a new collector's UI shows at once.
/// </summary>
internal static class UiStaticFiles
{
    public static RequestDelegate Create(IApplicationBuilder pipeline)
    {
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".html"] = "text/html; charset=utf-8";
        types.Mappings[".js"] = "text/javascript; charset=utf-8";
        types.Mappings[".css"] = "text/css; charset=utf-8";
        var options = new StaticFileOptions
        {
            FileProvider = new ManifestEmbeddedFileProvider(typeof(UiStaticFiles).Assembly, "Ui/wwwroot"),
            RequestPath = "/ui",
            ContentTypeProvider = types,
            OnPrepareResponse = static file =>
            {
                file.Context.Response.Headers.CacheControl = "no-cache";
                file.Context.Response.Headers.XContentTypeOptions = "nosniff";
            },
        };

        // The static file middleware serves only requests no endpoint has claimed; this branch runs inside the
        // /ui endpoint, so it lets go of it. A file not found falls through to the collector's Go-style 404.
        return pipeline
            .Use(static (context, next) =>
            {
                context.SetEndpoint(null);
                return next(context);
            })
            .UseStaticFiles(options)
            .Build();
    }
}
