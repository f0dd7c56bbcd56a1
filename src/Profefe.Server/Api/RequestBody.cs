using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Pprof;

namespace Profefe.Server.Api;

/// <summary>Reads a POST body into a pooled buffer that grows as it fills, refusing more than Collector:MaxBodyBytes with 413.</summary>
internal sealed class RequestBody : IDisposable
{
    private const int InitialBytes = 256 * 1024;

    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public static async Task<RequestBody> ReadAsync(HttpContext context, long maxBytes)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // Our own checks give the JSON answer. Lifting Kestrel's limit also lets it drain the rest of a
            // refused body after the 413, so the client reads the answer instead of a reset connection.
            sizeFeature.MaxRequestBodySize = null;
        }

        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(context);
        }

        var limit = (int)Math.Min(maxBytes, Array.MaxLength - 1);
        // The declared length is believed only up to InitialBytes: memory grows as bytes really arrive, so
        // clients that announce 32 MiB and trickle cannot reserve the limit each.
        var buffer = BufferPool.Rent((int)Math.Min(Math.Min(request.ContentLength ?? InitialBytes, InitialBytes), limit) + 1);
        var length = 0;
        try
        {
            // Never more than the limit: the pool rounds up to a power of two, so a buffer of limit + 1 bytes (to
            // see the byte too many) took twice the limit, 64 MiB per 32 MiB upload. One probe byte tells instead.
            var capacity = Math.Min(buffer.Length, limit);
            while (true)
            {
                if (length == capacity)
                {
                    if (length >= limit)
                    {
                        if (await request.Body.ReadAsync(new byte[1], context.RequestAborted).ConfigureAwait(false) > 0)
                        {
                            throw TooLarge(context);
                        }

                        break;
                    }

                    var larger = BufferPool.Rent((int)Math.Min((long)capacity * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    BufferPool.Return(buffer);
                    buffer = larger;
                    capacity = Math.Min(buffer.Length, limit);
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length, capacity - length), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            return new RequestBody(buffer, length);
        }
        catch
        {
            BufferPool.Return(buffer);
            throw;
        }
    }

    public static string TooLargeMessage(HttpContext context)
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<CollectorOptions>>().Value.MaxBodyBytes;
        return $"request body too large: the limit is {limit} bytes (Collector:MaxBodyBytes)";
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            BufferPool.Return(_buffer);
            _buffer = [];
        }
    }

    private static ProfileRequestException TooLarge(HttpContext context) =>
        ProfileRequestException.OverLimit(StatusCodes.Status413PayloadTooLarge, "Collector:MaxBodyBytes", TooLargeMessage(context));
}
