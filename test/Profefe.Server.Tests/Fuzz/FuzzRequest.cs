namespace Profefe.Server.Tests.Fuzz;

/// <summary>
/// One request of the fuzz run: the route it aims at (its pattern in the endpoint registration), what is sent, and
/// the mutations that made it from a valid seed, so a failure says how to reproduce it.
/// </summary>
internal sealed record FuzzRequest(string Route, HttpMethod Method, string PathAndQuery, byte[]? Body, string? ContentType)
{
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public string Mutations { get; init; } = "seed";

    /// <summary>Connect's unary calls, which answer Connect's JSON errors (<c>{"code":…,"message":…}</c>).</summary>
    public bool IsConnect => Route.StartsWith("/push.v1.", StringComparison.Ordinal) || Route.StartsWith("/querier.v1.", StringComparison.Ordinal);

    public HttpRequestMessage ToHttpRequest()
    {
        var request = new HttpRequestMessage(Method, PathAndQuery.TrimStart('/'));
        if (Body is not null)
        {
            request.Content = new ByteArrayContent(Body);
            if (ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
        }

        foreach (var (name, value) in Headers)
        {
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return request;
    }

    public override string ToString() =>
        $"{Method} {(PathAndQuery.Length > 300 ? PathAndQuery[..300] + "…" : PathAndQuery)} body={Body?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} type={ContentType ?? "none"} " +
        $"headers=[{string.Join(", ", Headers.Select(h => h.Key + ": " + (h.Value.Length > 40 ? h.Value[..40] + "…" : h.Value)))}] mutations=[{Mutations}]";
}
