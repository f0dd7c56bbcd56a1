using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;

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
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(request.ContentLength ?? InitialBytes, InitialBytes), limit) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        throw TooLarge(context);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    throw TooLarge(context);
                }
            }

            return new RequestBody(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
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
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private static ProfileRequestException TooLarge(HttpContext context) =>
        ProfileRequestException.OverLimit(StatusCodes.Status413PayloadTooLarge, "Collector:MaxBodyBytes", TooLargeMessage(context));
}
