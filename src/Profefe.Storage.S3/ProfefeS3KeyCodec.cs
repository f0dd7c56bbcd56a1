using System.Globalization;
using System.Text;
using Profefe.Core.Profiles;

namespace Profefe.Storage.S3;

/// <summary>
/// profefe's own S3 object layout (pkg/storage/s3): <c>P0.&lt;service&gt;/&lt;type number&gt;/&lt;xid&gt;[,k=v,…]</c>.
/// The service has '/' replaced by "__"; the type is profefe's number (cpu 1 … threadcreate 6, other 127,
/// trace 128); the xid is the profile id, whose time profefe reads as created_at; labels are query-escaped
/// <c>key=value</c> pairs joined by ',', read back with profefe's label parsing. Everything profefe knows about a
/// profile is in its key, so a listing alone answers a find.
/// </summary>
/// <remarks>
/// The key loses what our metas carry beyond that: created_at below a second (and created_at itself, when it
/// differs from the id's time) and a service containing '/'. Both travel in an extension chunk right after the
/// xid, <c>,=c&lt;ticks&gt;[:s&lt;escaped service&gt;]</c>: its key is empty, and profefe's label parsing drops
/// chunks with an empty key, so profefe still reads such a key, with the same labels.
/// </remarks>
internal static class ProfefeS3KeyCodec
{
    public const string SchemaPrefix = "P0.";

    private const char ExtensionStart = '=';
    private const char ExtensionFieldSeparator = ':';
    private const char CreatedAtField = 'c';
    private const char ServiceField = 's';

    /// <summary>profefe's number for <paramref name="type"/>, as it appears in keys.</summary>
    public static int TypeNumber(ProfileType type) => type switch
    {
        ProfileType.Cpu => 1,
        ProfileType.Heap => 2,
        ProfileType.Block => 3,
        ProfileType.Mutex => 4,
        ProfileType.Goroutine => 5,
        ProfileType.Threadcreate => 6,
        ProfileType.Other => 127,
        ProfileType.Trace => 128,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "profefe's layout has no number for this profile type"),
    };

    public static ProfileType? TypeFromNumber(int number) => number switch
    {
        1 => ProfileType.Cpu,
        2 => ProfileType.Heap,
        3 => ProfileType.Block,
        4 => ProfileType.Mutex,
        5 => ProfileType.Goroutine,
        6 => ProfileType.Threadcreate,
        127 => ProfileType.Other,
        128 => ProfileType.Trace,
        _ => null,
    };

    /// <summary>The service's path segment: profefe replaces '/' with "__", so that the service stays one segment.</summary>
    public static string ServiceSegment(string service) => service.Replace("/", "__", StringComparison.Ordinal);

    /// <summary><c>P0.&lt;service&gt;/</c>: every key of <paramref name="service"/> (and of services that share its segment).</summary>
    public static string ServicePrefix(string service) => SchemaPrefix + ServiceSegment(service) + "/";

    /// <summary><c>P0.&lt;service&gt;/&lt;type&gt;/</c>.</summary>
    public static string TypePrefix(string service, ProfileType type) =>
        ServicePrefix(service) + TypeNumber(type).ToString(CultureInfo.InvariantCulture) + "/";

    /// <summary>The key's beginning that only the profile with this id, service segment and type can have.</summary>
    public static string IdPrefix(string serviceSegment, ProfileType type, ProfileId id) =>
        SchemaPrefix + serviceSegment + "/" + TypeNumber(type).ToString(CultureInfo.InvariantCulture) + "/" + id.ToString();

    /// <summary>The object key for <paramref name="meta"/>.</summary>
    public static string CreateKey(ProfileMeta meta)
    {
        ArgumentNullException.ThrowIfNull(meta);
        var builder = new StringBuilder(64 + meta.Service.Length);
        builder.Append(TypePrefix(meta.Service, meta.Type));
        builder.Append(meta.ProfileId.ToString());
        builder.Append(',').Append(ExtensionStart).Append(CreatedAtField);
        builder.Append(ToUtcTicks(meta.CreatedAt).ToString(CultureInfo.InvariantCulture));
        if (meta.Service.Contains('/', StringComparison.Ordinal))
        {
            builder.Append(ExtensionFieldSeparator).Append(ServiceField);
            AppendQueryEscaped(builder, meta.Service);
        }

        foreach (var label in meta.Labels)
        {
            if (label.Key.Length == 0)
            {
                throw new ArgumentException("profefe's layout cannot hold a label with an empty key", nameof(meta));
            }

            builder.Append(',');
            AppendQueryEscaped(builder, label.Key);
            builder.Append('=');
            AppendQueryEscaped(builder, label.Value);
        }

        return builder.ToString();
    }

    /// <summary>
    /// Reads a key as profefe does; <paramref name="error"/> says why a key is not a profile (profefe skips those).
    /// </summary>
    public static bool TryParseKey(string key, out ProfefeS3Key parsed, out string error)
    {
        ArgumentNullException.ThrowIfNull(key);
        parsed = null!;
        if (!key.StartsWith(SchemaPrefix, StringComparison.Ordinal))
        {
            error = $"key \"{key}\" does not start with {SchemaPrefix}";
            return false;
        }

        var rest = key.AsSpan(SchemaPrefix.Length);
        var firstSlash = rest.IndexOf('/');
        var secondSlash = firstSlash < 0 ? -1 : rest[(firstSlash + 1)..].IndexOf('/');
        if (secondSlash < 0)
        {
            error = $"key \"{key}\" is not <service>/<type>/<id>";
            return false;
        }

        secondSlash += firstSlash + 1;
        var segment = rest[..firstSlash].ToString();
        if (!int.TryParse(rest[(firstSlash + 1)..secondSlash], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            || TypeFromNumber(number) is not { } type)
        {
            error = $"key \"{key}\" has no known profile type";
            return false;
        }

        var tail = rest[(secondSlash + 1)..];
        var comma = tail.IndexOf(',');
        var digest = comma < 0 ? tail : tail[..comma];
        if (!ProfileId.TryParse(digest, out var id))
        {
            error = $"key \"{key}\" has no valid id";
            return false;
        }

        var createdAt = id.Timestamp;
        var service = segment;
        var hasExtension = false;
        var labels = new List<Label>();
        if (comma >= 0)
        {
            foreach (var chunk in tail[(comma + 1)..].ToString().Split(','))
            {
                if (!hasExtension && chunk.StartsWith(ExtensionStart)
                    && TryParseExtension(chunk.AsSpan(1), segment, ref createdAt, ref service))
                {
                    hasExtension = true;
                    continue;
                }

                // profefe's Labels.FromString: split at the first '=', trim, unescape; a chunk whose key is
                // empty is dropped before its value is looked at. The order is kept: keys hold labels sorted.
                var equals = chunk.IndexOf('=', StringComparison.Ordinal);
                if (!TryQueryUnescape((equals < 0 ? chunk : chunk[..equals]).Trim(), out var labelKey))
                {
                    error = $"key \"{key}\" has a bad label escape in \"{chunk}\"";
                    return false;
                }

                if (labelKey.Length == 0)
                {
                    continue;
                }

                if (!TryQueryUnescape(equals < 0 ? "" : chunk[(equals + 1)..].Trim(), out var labelValue))
                {
                    error = $"key \"{key}\" has a bad label escape in \"{chunk}\"";
                    return false;
                }

                labels.Add(new Label(labelKey, labelValue));
            }
        }

        parsed = new ProfefeS3Key(key, segment, new ProfileMeta(id, type, service, labels, createdAt), hasExtension);
        error = "";
        return true;
    }

    /// <summary>Go's url.QueryEscape: unreserved ASCII stays, ' ' becomes '+', every other UTF-8 byte %XX.</summary>
    public static string QueryEscape(string value)
    {
        var builder = new StringBuilder(value.Length);
        AppendQueryEscaped(builder, value);
        return builder.ToString();
    }

    private static bool TryParseExtension(ReadOnlySpan<char> text, string segment, ref DateTime createdAt, ref string service)
    {
        DateTime? parsedCreatedAt = null;
        string? parsedService = null;
        foreach (var range in text.Split(ExtensionFieldSeparator))
        {
            var field = text[range];
            if (field.IsEmpty)
            {
                continue;
            }

            var value = field[1..];
            switch (field[0])
            {
                case CreatedAtField:
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                        || ticks > DateTime.MaxValue.Ticks)
                    {
                        return false;
                    }

                    parsedCreatedAt = new DateTime(ticks, DateTimeKind.Utc);
                    break;
                case ServiceField:
                    // A service that does not map to this key's segment was not written with it: ignore the chunk.
                    if (!TryQueryUnescape(value.ToString(), out var unescaped) || ServiceSegment(unescaped) != segment)
                    {
                        return false;
                    }

                    parsedService = unescaped;
                    break;
                default:
                    // Fields a later version adds are skipped, not fatal.
                    break;
            }
        }

        if (parsedCreatedAt is null)
        {
            return false;
        }

        createdAt = parsedCreatedAt.Value;
        service = parsedService ?? service;
        return true;
    }

    /// <summary>Go's url.QueryUnescape: '+' is a space, %XX a byte (UTF-8 decoded at the end); a bad escape fails.</summary>
    private static bool TryQueryUnescape(string text, out string value)
    {
        value = text;
        if (text.AsSpan().IndexOfAny('%', '+') < 0)
        {
            return true;
        }

        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    return false;
                }

                bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                i += 2;
            }
            else if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else
            {
                var pair = char.IsHighSurrogate(c) && i + 1 < text.Length;
                var length = Encoding.UTF8.GetBytes(text.AsSpan(i, pair ? 2 : 1), utf8);
                i += pair ? 1 : 0;
                for (var k = 0; k < length; k++)
                {
                    bytes.Add(utf8[k]);
                }
            }
        }

        value = Encoding.UTF8.GetString([.. bytes]);
        return true;
    }

    private static long ToUtcTicks(DateTime time) => time.Kind == DateTimeKind.Local ? time.ToUniversalTime().Ticks : time.Ticks;

    private static void AppendQueryEscaped(StringBuilder builder, string value)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
                continue;
            }

            if (c == ' ')
            {
                builder.Append('+');
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                ? Encoding.UTF8.GetBytes(value.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(value.AsSpan(i, 1), utf8);
            for (var k = 0; k < length; k++)
            {
                builder.Append('%').Append(utf8[k].ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }
}

/// <summary>A key in profefe's layout, read.</summary>
/// <param name="Key">The object key.</param>
/// <param name="ServiceSegment">The service as it appears in the key.</param>
/// <param name="Meta">What the key says; the id is the key's xid.</param>
/// <param name="HasExtension">Written by this collector: created_at and service come from the extension chunk.</param>
internal sealed record ProfefeS3Key(string Key, string ServiceSegment, ProfileMeta Meta, bool HasExtension);
