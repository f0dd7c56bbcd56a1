using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Pprof;
using Profefe.Server.Access;
using Profefe.Server.Idempotency;

namespace Profefe.Server.Api;

/// <summary>
/// /api/0/profiles: POST collects, GET finds; /api/0/profiles/{id} downloads one profile verbatim,
/// /api/0/profiles/{id}+{id}… merges several, /api/0/profiles/merge merges what a query finds.
/// Methods are not checked beyond what profefe checks, and a trailing slash is accepted.
/// </summary>
internal static class ProfileEndpoints
{
    public const string ProfilesPath = "/api/0/profiles";

    public static IEndpointRouteBuilder MapProfileEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map(ProfilesPath, HandleAsync);
        endpoints.Map(ProfilesPath + "/{**rest}", HandleAsync);
        return endpoints;
    }

    private static Task HandleAsync(HttpContext context)
    {
        var rest = (context.GetRouteValue("rest") as string ?? "").TrimEnd('/');
        if (rest.Length == 0)
        {
            context.Items[ApiRequestMiddleware.MetricsPathKey] = ProfilesPath;
            return context.Request.Method switch
            {
                "GET" => FindAsync(context),
                "POST" => CollectAsync(context),

                // profefe's handler has no branch for other methods and answers an empty 200.
                _ => Task.CompletedTask,
            };
        }

        if (rest == "merge")
        {
            context.Items[ApiRequestMiddleware.MetricsPathKey] = ProfilesPath + "/merge";
            return MergeQueryAsync(context);
        }

        context.Items[ApiRequestMiddleware.MetricsPathKey] = ProfilesPath + "/{ids}";
        return GetAsync(context, rest);
    }

    private static async Task CollectAsync(HttpContext context)
    {
        var parameters = ProfileRequestParser.ParseCollect(QueryOf(context));
        var services = context.RequestServices;
        var collector = services.GetRequiredService<ProfileCollector>();
        collector.CheckParameters(parameters);
        var idempotencyKey = IdempotentPushes.KeyOf(context);
        var maxBodyBytes = services.GetRequiredService<IOptions<CollectorOptions>>().Value.MaxBodyBytes;
        using var body = await RequestBody.ReadAsync(context, maxBodyBytes).ConfigureAwait(false);

        // Once the body is in, the write runs to completion even if the client leaves or the host stops:
        // a write is either acknowledged and durable or never happened.
        Task<ProfileMeta> CollectAsync() => collector.CollectAsync(context.GetTenant(), parameters, body.Memory, CancellationToken.None);
        ProfileMeta meta;
        if (idempotencyKey is null)
        {
            meta = await CollectAsync().ConfigureAwait(false);
        }
        else
        {
            var fingerprint = IdempotentPushes.Fingerprint(context.Request.QueryString.Value ?? "", body.Memory.Span);
            var (stored, replayed) = await services.GetRequiredService<IdempotentPushes>()
                .CollectOnceAsync(context.GetTenant(), idempotencyKey, fingerprint, CollectAsync, context.RequestAborted).ConfigureAwait(false);
            meta = stored;
            if (replayed)
            {
                context.Response.Headers["Idempotent-Replayed"] = "true";
                await ApiReply.OkAsync(context, writer => writer.Meta(meta)).ConfigureAwait(false);
                return;
            }
        }

        services.GetRequiredService<CollectorMetrics>().RecordProfileCollected(ProfileTypeNames.ToWireName(meta.Type));
        await ApiReply.OkAsync(context, writer => writer.Meta(meta)).ConfigureAwait(false);
    }

    private static async Task FindAsync(HttpContext context)
    {
        var query = ProfileRequestParser.ParseQuery(QueryOf(context));
        var metas = await context.RequestServices.GetRequiredService<ProfileQuerier>().FindProfilesAsync(context.GetTenant(), query, context.RequestAborted).ConfigureAwait(false);
        await ApiReply.OkAsync(context, writer =>
        {
            writer.Raw("[");
            for (var i = 0; i < metas.Count; i++)
            {
                if (i > 0)
                {
                    writer.Raw(",");
                }

                writer.Meta(metas[i]);
            }

            writer.Raw("]");
        }).ConfigureAwait(false);
    }

    private static async Task GetAsync(HttpContext context, string idsText)
    {
        var parts = idsText.Split('+');
        var ids = new ProfileId[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0)
            {
                throw ProfileRequestException.BadRequest($"empty profile id in {Quote(idsText)}");
            }

            if (!ProfileId.TryParse(parts[i], out ids[i]))
            {
                throw ProfileRequestException.BadRequest($"malformed profile id {Quote(parts[i])}");
            }
        }

        // Only well-formed ids reach the header, so it never carries arbitrary text.
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{idsText}\"";
        var querier = context.RequestServices.GetRequiredService<ProfileQuerier>();
        if (ids.Length == 1)
        {
            var stored = await querier.GetProfileAsync(context.GetTenant(), ids[0], context.RequestAborted).ConfigureAwait(false);
            await WriteProfileBytesAsync(context, stored.Data).ConfigureAwait(false);
            return;
        }

        var merged = await querier.MergeProfilesAsync(context.GetTenant(), ids, context.RequestAborted).ConfigureAwait(false);
        await WriteProfileBytesAsync(context, ProfileEncoder.EncodeToArray(merged)).ConfigureAwait(false);
    }

    private static async Task MergeQueryAsync(HttpContext context)
    {
        var query = ProfileRequestParser.ParseQuery(QueryOf(context));
        ProfileQuerier.CheckMergeable(query.Type);
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{ProfileTypeNames.ToWireName(query.Type!.Value)}\"";
        var merged = await context.RequestServices.GetRequiredService<ProfileQuerier>().MergeProfilesAsync(context.GetTenant(), query, context.RequestAborted).ConfigureAwait(false);
        await WriteProfileBytesAsync(context, ProfileEncoder.EncodeToArray(merged)).ConfigureAwait(false);
    }

    private static Task WriteProfileBytesAsync(HttpContext context, ReadOnlyMemory<byte> data)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/octet-stream";
        response.ContentLength = data.Length;
        return response.Body.WriteAsync(data, context.RequestAborted).AsTask();
    }

    private static Func<string, string?> QueryOf(HttpContext context)
    {
        var query = context.Request.Query;
        return name => query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
    }

    // Go's %q for the texts that matter here; anything unusual is escaped by the JSON writer anyway.
    private static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
