using System.Buffers;
using System.IO.Compression;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Storage;
using Profefe.Pprof;
using Profefe.Server.Api;

namespace Profefe.Server.Pyroscope.Connect;

/// <summary>
/// The Connect protocol's unary calls (https://connectrpc.com/docs/protocol): POST to /package.Service/Method with
/// a binary (<c>application/proto</c>) or JSON (<c>application/json</c>) message, optionally gzip-compressed; the
/// answer is in the request's codec, errors are <c>{"code":"invalid_argument","message":"…"}</c> with the code's
/// HTTP status.
/// </summary>
internal static class ConnectUnary
{
    private const string ProtoType = "application/proto";
    private const string JsonType = "application/json";

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    /// <summary>Maps <paramref name="path"/> to a unary method taking <typeparamref name="TRequest"/>.</summary>
    public static void MapUnary<TRequest>(this IEndpointRouteBuilder endpoints, string path, MessageParser<TRequest> parser, Func<TRequest, HttpContext, Task<ConnectReply>> handle)
        where TRequest : IMessage<TRequest>, new()
    {
        endpoints.MapPost(path, context => HandleAsync(context, parser, handle));
    }

    private static async Task HandleAsync<TRequest>(HttpContext context, MessageParser<TRequest> parser, Func<TRequest, HttpContext, Task<ConnectReply>> handle)
        where TRequest : IMessage<TRequest>, new()
    {
        var mediaType = (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        var isJson = mediaType == JsonType;
        if (!isJson && mediaType != ProtoType)
        {
            // Connect answers an unknown codec with 415 and the codecs it takes; the body says so to a person too.
            context.Response.Headers.Accept = ProtoType + ", " + JsonType;
            await WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, ConnectCode.Unimplemented,
                $"Content-Type \"{mediaType}\" is not a Connect codec: send {ProtoType} or {JsonType}").ConfigureAwait(false);
            return;
        }

        try
        {
            var request = await ReadAsync(context, parser, isJson).ConfigureAwait(false);
            var reply = await handle(request, context).ConfigureAwait(false);
            await WriteAsync(context, reply, isJson).ConfigureAwait(false);
        }
        catch (ConnectException e)
        {
            await WriteErrorAsync(context, e.Code, e.Message).ConfigureAwait(false);
        }
        catch (ProfileRequestException e)
        {
            if (e.Limit is { } limit)
            {
                context.RequestServices.GetRequiredService<CollectorMetrics>().RecordRefusal(limit);
            }

            ApiReply.SetRetryAfter(context, e.RetryAfter);
            await WriteErrorAsync(context, ConnectCode.FromHttpStatus(e.StatusCode), e.Message).ConfigureAwait(false);
        }
        catch (StorageUnavailableException e)
        {
            await WriteErrorAsync(context, ConnectCode.Unavailable, $"{e.Dependency} storage: {e.Message}").ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(context, e.StatusCode == 413 ? ConnectCode.ResourceExhausted : ConnectCode.InvalidArgument, e.Message).ConfigureAwait(false);
        }
    }

    private static async Task<TRequest> ReadAsync<TRequest>(HttpContext context, MessageParser<TRequest> parser, bool isJson)
        where TRequest : IMessage<TRequest>, new()
    {
        var options = context.RequestServices.GetRequiredService<IOptions<CollectorOptions>>().Value;
        using var body = await RequestBody.ReadAsync(context, options.MaxBodyBytes).ConfigureAwait(false);
        var data = body.Memory;
        var encoding = context.Request.Headers.ContentEncoding.ToString();
        if (encoding is "gzip")
        {
            var budget = context.RequestServices.GetRequiredService<InflateBudget>();
            var inflated = Inflate(data, options.MaxDecompressedBytes, budget);
            try
            {
                return Parse(inflated, parser, isJson);
            }
            finally
            {
                budget.Release(inflated.Length);
            }
        }
        else if (encoding is not ("" or "identity"))
        {
            throw new ConnectException(ConnectCode.Unimplemented, $"unsupported Content-Encoding \"{encoding}\": send gzip or identity");
        }

        return Parse(data.Span, parser, isJson);
    }

    private static TRequest Parse<TRequest>(ReadOnlySpan<byte> data, MessageParser<TRequest> parser, bool isJson)
        where TRequest : IMessage<TRequest>, new()
    {
        try
        {
            return isJson ? Parser.Parse<TRequest>(System.Text.Encoding.UTF8.GetString(data)) : parser.ParseFrom(data);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException)
        {
            throw ConnectException.InvalidArgument($"malformed {(isJson ? "JSON" : "protobuf")} {typeof(TRequest).Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Inflates in two passes: the first only counts, so a bomb past the limit costs no memory and one within it
    /// gets one array of its exact size (a growing MemoryStream held up to 3× the size; eight concurrent bombs made
    /// the soak's 4 GiB collector throw OutOfMemoryException). The second pass costs CPU only for honest bodies.
    /// The array's bytes are taken from <paramref name="budget"/>; the caller gives them back once the message is parsed.
    /// </summary>
    private static byte[] Inflate(ReadOnlyMemory<byte> data, long maxBytes, InflateBudget budget)
    {
        try
        {
            var length = InflatedLength(data, maxBytes);
            try
            {
                budget.Reserve(length);
            }
            catch (ProfileFormatException e)
            {
                throw ProfileCollector.LimitRefusal(e)!;
            }

            try
            {
                var inflated = new byte[length];
                using var gzip = new GZipStream(new ReadOnlyMemoryStream(data), CompressionMode.Decompress);
                gzip.ReadExactly(inflated);
                return inflated;
            }
            catch
            {
                budget.Release(length);
                throw;
            }
        }
        catch (InvalidDataException e)
        {
            throw ConnectException.InvalidArgument($"Content-Encoding gzip, but the body is not gzip: {e.Message}");
        }
    }

    private static int InflatedLength(ReadOnlyMemory<byte> data, long maxBytes)
    {
        using var gzip = new GZipStream(new ReadOnlyMemoryStream(data), CompressionMode.Decompress);
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            long total = 0;
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                total += read;
                if (total > maxBytes || total > Array.MaxLength)
                {
                    throw new ConnectException(ConnectCode.ResourceExhausted, $"the request inflates past {maxBytes} bytes (Collector:MaxDecompressedBytes)");
                }
            }

            return (int)total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A read-only stream over memory the request already holds, instead of copying it into a MemoryStream.</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, data.Length - _position);
            data.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static Task WriteAsync(HttpContext context, ConnectReply reply, bool isJson)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        byte[] bytes;
        if (isJson)
        {
            response.ContentType = JsonType;
            bytes = System.Text.Encoding.UTF8.GetBytes(Formatter.Format(reply.Message()));
        }
        else
        {
            response.ContentType = ProtoType;
            bytes = reply.ProtoBytes();
        }

        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private static Task WriteErrorAsync(HttpContext context, string code, string message) =>
        WriteErrorAsync(context, ConnectCode.HttpStatusOf(code), code, message);

    private static Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        var response = context.Response;
        if (status >= 500)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConnectUnary));
            Log.ConnectCallFailed(logger, context.Request.Path, code, message);
        }

        response.StatusCode = status;
        response.ContentType = JsonType;
        var writer = new GoJsonWriter().Raw("{\"code\":").String(code).Raw(",\"message\":").String(message).Raw("}");
        response.ContentLength = writer.WrittenMemory.Length;
        return response.Body.WriteAsync(writer.WrittenMemory, context.RequestAborted).AsTask();
    }
}

/// <summary>
/// A unary call's answer: a message, or for a pprof answer the bytes of google.v1.Profile as our encoder wrote
/// them (parsed into a message only when JSON is asked for).
/// </summary>
internal sealed class ConnectReply
{
    private readonly IMessage? _message;
    private readonly byte[]? _bytes;
    private readonly MessageParser? _parser;

    public ConnectReply(IMessage message) => _message = message;

    public ConnectReply(byte[] protoBytes, MessageParser parser)
    {
        _bytes = protoBytes;
        _parser = parser;
    }

    public IMessage Message() => _message ?? _parser!.ParseFrom(_bytes);

    public byte[] ProtoBytes() => _bytes ?? _message!.ToByteArray();
}
