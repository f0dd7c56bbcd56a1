using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Tenancy;

namespace Profefe.Server.Idempotency;

/// <summary>
/// Pushes carrying an <c>Idempotency-Key</c>: the first with a key (per tenant) is stored, and a retry with the same
/// key and the same request within Collector:IdempotencyWindow stores nothing and gets the first one's answer (a
/// retry arriving while the first is still being stored waits for it). The same key with another request is a 422.
/// Kept in this process's memory, at most Collector:MaxIdempotencyKeys keys (the oldest go first): a retry after a
/// restart of the collector is stored again. Pyroscope's Push names each sample with an ID, which works the same way
/// under its own name, so a sample ID never collides with an Idempotency-Key.
/// </summary>
internal sealed class IdempotentPushes(IOptions<CollectorOptions> options, TimeProvider timeProvider)
{
    public const string HeaderName = "Idempotency-Key";
    public const int MaxKeyLength = 255;

    private readonly TimeSpan _window = options.Value.IdempotencyWindow;
    private readonly int _maxKeys = options.Value.MaxIdempotencyKeys;
    private readonly Dictionary<(TenantId Tenant, string Name, string Key), Push> _pushes = [];
    private readonly Queue<((TenantId Tenant, string Name, string Key) Id, Push Push)> _byAge = new();

    /// <summary>Why <paramref name="key"/> is not usable as an idempotency key, or null when it is.</summary>
    /// <param name="name">What the key is called in the request, for the message.</param>
    public static string? Problem(string key, string name = HeaderName)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is 0 or > MaxKeyLength)
        {
            return $"{name} must have 1 to {MaxKeyLength} characters";
        }

        foreach (var c in key)
        {
            if (c is < ' ' or > '~')
            {
                return $"{name} may only hold printable ASCII characters";
            }
        }

        return null;
    }

    /// <summary>The request's <c>Idempotency-Key</c>, or null when it has none.</summary>
    /// <exception cref="ProfileRequestException">400 for several keys or an unusable one.</exception>
    public static string? KeyOf(Microsoft.AspNetCore.Http.HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var values = context.Request.Headers[HeaderName];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1)
        {
            throw ProfileRequestException.BadRequest($"more than one {HeaderName} header");
        }

        return Problem(values[0]!) is { } problem ? throw ProfileRequestException.BadRequest(problem) : values[0];
    }

    /// <summary>A digest of what a push asks for, to tell a retry from another push reusing its key.</summary>
    public static byte[] Fingerprint(string query, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(query));
        hash.AppendData([0]);
        hash.AppendData(body);
        return hash.GetHashAndReset();
    }

    /// <summary>Runs <paramref name="collect"/> unless a push with the same key ran within the window.</summary>
    /// <param name="name">What the key is called in the request (<see cref="HeaderName"/>, Pyroscope's sample ID): keys of different names never match.</param>
    /// <returns>The stored profile's meta, and whether it is the answer of an earlier push.</returns>
    /// <exception cref="ProfileRequestException">422 when the key was used for a different request.</exception>
    public async Task<(ProfileMeta Meta, bool Replayed)> CollectOnceAsync(
        TenantId tenant, string key, byte[] fingerprint, Func<Task<ProfileMeta>> collect, CancellationToken cancellationToken, string name = HeaderName)
    {
        ArgumentNullException.ThrowIfNull(collect);
        var id = (tenant, name, key);
        Push push;
        var owner = false;
        lock (_pushes)
        {
            var now = timeProvider.GetUtcNow();
            Evict(now);
            if (_pushes.TryGetValue(id, out var earlier) && earlier.Expires > now)
            {
                if (!CryptographicOperations.FixedTimeEquals(earlier.Fingerprint, fingerprint))
                {
                    throw new ProfileRequestException(422,
                        $"unprocessable: {name} \"{key}\" was used for a different push within the last {_window.TotalMinutes:0.##} minutes; use a new key for a new push");
                }

                push = earlier;
            }
            else
            {
                push = new Push(fingerprint, now + _window);
                _pushes[id] = push;
                _byAge.Enqueue((id, push));
                owner = true;
            }
        }

        if (!owner)
        {
            return (await push.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false), true);
        }

        try
        {
            var meta = await collect().ConfigureAwait(false);
            push.Result.SetResult(meta);
            return (meta, false);
        }
        catch (Exception e)
        {
            // A push that failed stored nothing: its retry must be able to store.
            lock (_pushes)
            {
                if (_pushes.TryGetValue(id, out var current) && current.Result == push.Result)
                {
                    _pushes.Remove(id);
                }
            }

            push.Result.SetException(e);
            _ = push.Result.Task.Exception;
            throw;
        }
    }

    private void Evict(DateTimeOffset now)
    {
        while (_byAge.TryPeek(out var oldest) && (oldest.Push.Expires <= now || _byAge.Count > _maxKeys))
        {
            _byAge.Dequeue();
            if (_pushes.TryGetValue(oldest.Id, out var current) && current.Result == oldest.Push.Result)
            {
                _pushes.Remove(oldest.Id);
            }
        }
    }

    private sealed record Push(byte[] Fingerprint, DateTimeOffset Expires)
    {
        public TaskCompletionSource<ProfileMeta> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
