using Microsoft.AspNetCore.Http;

namespace Profefe.Server.Api;

/// <summary>
/// profefe's reply envelope: <c>{"code":200,"body":…}</c> or <c>{"code":…,"error":"…"}</c>, compact, followed by
/// "\n", with <c>code</c> equal to the HTTP status. Unlike profefe, always sent as application/json.
/// </summary>
internal static class ApiReply
{
    public const string JsonContentType = "application/json";

    public static Task OkAsync(HttpContext context, Action<GoJsonWriter> writeBody)
    {
        var writer = new GoJsonWriter().Raw("{\"code\":200,\"body\":");
        writeBody(writer);
        writer.Raw("}\n");
        return WriteAsync(context, StatusCodes.Status200OK, writer);
    }

    public static Task ErrorAsync(HttpContext context, int statusCode, string message)
    {
        var writer = new GoJsonWriter().Raw("{\"code\":").Number(statusCode).Raw(",\"error\":").String(message).Raw("}\n");
        return WriteAsync(context, statusCode, writer);
    }

    /// <summary>Sets Retry-After (whole seconds, at least 1) when the refusal passes with time.</summary>
    public static void SetRetryAfter(HttpContext context, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static Task WriteAsync(HttpContext context, int statusCode, GoJsonWriter writer)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = JsonContentType;
        response.ContentLength = writer.WrittenMemory.Length;
        return response.Body.WriteAsync(writer.WrittenMemory, context.RequestAborted).AsTask();
    }
}
