using System.Text;
using System.Text.RegularExpressions;
using Profefe.Core.Profiles;
using Profefe.Server.Pyroscope.Connect;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>One PromQL label matcher: <c>name="v"</c>, <c>!=</c>, <c>=~</c> (anchored regex), <c>!~</c>.</summary>
internal sealed record LabelMatcher(string Name, string Operator, string Value, Regex? Pattern)
{
    /// <summary>Whether a series with <paramref name="value"/> for the label (empty when absent) matches, as Prometheus decides.</summary>
    public bool Matches(string value) => Operator switch
    {
        "=" => value == Value,
        "!=" => value != Value,
        "=~" => Pattern!.IsMatch(value),
        _ => !Pattern!.IsMatch(value),
    };

    /// <summary>The value an equality matcher pins the label to, or null.</summary>
    public string? Equal => Operator == "=" ? Value : null;
}

/// <summary>
/// A PromQL series selector, <c>{service_name="api", pod=~"api-.*"}</c> (the braces may be empty or left out when
/// there are no matchers), as Pyroscope's queries take it.
/// </summary>
internal sealed record LabelSelector(IReadOnlyList<LabelMatcher> Matchers)
{
    public static LabelSelector All { get; } = new([]);

    public bool Matches(IReadOnlyList<Label> labels)
    {
        foreach (var matcher in Matchers)
        {
            var value = "";
            foreach (var label in labels)
            {
                if (label.Key == matcher.Name)
                {
                    value = label.Value;
                    break;
                }
            }

            if (!matcher.Matches(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The value an equality matcher on <paramref name="name"/> requires, or null.</summary>
    public string? EqualValueOf(string name)
    {
        foreach (var matcher in Matchers)
        {
            if (matcher.Name == name && matcher.Equal is { } value)
            {
                return value;
            }
        }

        return null;
    }

    /// <exception cref="ConnectException">invalid_argument saying where the selector is wrong.</exception>
    public static LabelSelector Parse(string? text)
    {
        var selector = (text ?? "").Trim();
        if (selector.Length == 0 || selector == "{}")
        {
            return All;
        }

        if (selector[0] != '{' || selector[^1] != '}')
        {
            throw Error(selector, "want {name=\"value\", ...}");
        }

        var matchers = new List<LabelMatcher>();
        var position = 1;
        var end = selector.Length - 1;
        while (true)
        {
            SkipSpaces(selector, ref position);
            if (position == end)
            {
                break;
            }

            var nameStart = position;
            while (position < end && (char.IsAsciiLetterOrDigit(selector[position]) || selector[position] is '_' or '.'))
            {
                position++;
            }

            var name = selector[nameStart..position];
            if (name.Length == 0 || char.IsAsciiDigit(name[0]))
            {
                throw Error(selector, $"expected a label name at offset {nameStart}");
            }

            SkipSpaces(selector, ref position);
            var op = ReadOperator(selector, ref position, end) ?? throw Error(selector, $"expected =, !=, =~ or !~ after \"{name}\"");
            SkipSpaces(selector, ref position);
            var value = ReadString(selector, ref position, end);
            Regex? pattern = null;
            if (op is "=~" or "!~")
            {
                try
                {
                    pattern = new Regex("^(?:" + value + ")$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                }
                catch (ArgumentException e)
                {
                    throw Error(selector, $"bad regular expression \"{value}\": {e.Message}");
                }
            }

            matchers.Add(new LabelMatcher(name, op, value, pattern));
            SkipSpaces(selector, ref position);
            if (position == end)
            {
                break;
            }

            if (selector[position] != ',')
            {
                throw Error(selector, $"expected ',' or '}}' at offset {position}");
            }

            position++;
        }

        return new LabelSelector(matchers);
    }

    private static string? ReadOperator(string text, ref int position, int end)
    {
        if (position >= end)
        {
            return null;
        }

        var first = text[position];
        var second = position + 1 < end ? text[position + 1] : '\0';
        (string? op, int length) = (first, second) switch
        {
            ('=', '~') => ("=~", 2),
            ('!', '=') => ("!=", 2),
            ('!', '~') => ("!~", 2),
            ('=', _) => ("=", 1),
            _ => (null, 0),
        };
        position += length;
        return op;
    }

    /// <summary>A double-, single- or back-quoted string with Go's escapes (backquotes take none).</summary>
    private static string ReadString(string text, ref int position, int end)
    {
        if (position >= end || text[position] is not ('"' or '\'' or '`'))
        {
            throw Error(text, $"expected a quoted value at offset {position}");
        }

        var quote = text[position++];
        var value = new StringBuilder();
        while (position < end && text[position] != quote)
        {
            var c = text[position++];
            if (c == '\\' && quote != '`' && position < end)
            {
                var escaped = text[position++];
                value.Append(escaped switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    _ => escaped,
                });
            }
            else
            {
                value.Append(c);
            }
        }

        if (position >= end)
        {
            throw Error(text, "unterminated quoted value");
        }

        position++;
        return value.ToString();
    }

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }

    private static ConnectException Error(string selector, string reason) =>
        ConnectException.InvalidArgument($"parse error in label selector \"{selector}\": {reason}");
}
