using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Profefe.Server.Api;

/// <summary>/api/0/version (any method): profefe's four fields, filled from this build.</summary>
internal static class VersionEndpoints
{
    public static IEndpointRouteBuilder MapVersionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/api/0/version", context => ApiReply.OkAsync(context, writer => writer
            .Raw("{\"version\":").String(BuildInfo.Version)
            .Raw(",\"commit\":").String(BuildInfo.Commit)
            .Raw(",\"build_time\":").String(BuildInfo.BuildTime)
            .Raw(",\"go_version\":").String(RuntimeInformation.FrameworkDescription)
            .Raw("}")));
        return endpoints;
    }

    /// <summary>Version and commit from the informational version ("0.1.0+&lt;sha&gt;"), build time from the assembly file.</summary>
    internal static class BuildInfo
    {
        private static readonly Assembly Assembly = typeof(BuildInfo).Assembly;
        private static readonly string Informational =
            Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

        public static string Version { get; } = Informational.Split('+')[0];

        public static string Commit { get; } = Informational.Split('+') is [_, var sha, ..] ? sha[..Math.Min(7, sha.Length)] : "unknown";

        // The assembly file is written by the build; stamping the time into the assembly would defeat incremental builds.
        public static string BuildTime { get; } = Assembly.Location is { Length: > 0 } location && File.Exists(location)
            ? File.GetLastWriteTimeUtc(location).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)
            : "unknown";
    }
}
