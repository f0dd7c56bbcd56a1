using System.Diagnostics.CodeAnalysis;

namespace Profefe.Core.Tenancy;

/// <summary>
/// The tenant a request acts for: the access token's tenant, else the <c>X-Scope-OrgID</c> header (Pyroscope's
/// and Cortex's convention), else <see cref="Default"/>. Ids follow Cortex's rules so they are safe in paths and
/// object keys: 1 to 150 characters of ASCII letters, digits and <c>! - _ . * ' ( )</c>, never "." or "..".
/// </summary>
public readonly record struct TenantId
{
    public const int MaxLength = 150;

    /// <summary>Pyroscope's tenant for requests that name none.</summary>
    public static readonly TenantId Default = new("anonymous");

    private readonly string? _value;

    private TenantId(string value) => _value = value;

    public string Value => _value ?? Default._value!;

    /// <exception cref="ArgumentException">the text is not a valid tenant id; the message says why.</exception>
    public static TenantId Parse(string text) =>
        TryParse(text, out var tenant, out var error) ? tenant : throw new ArgumentException(error, nameof(text));

    public static bool TryParse([NotNullWhen(true)] string? text, out TenantId tenant, out string error)
    {
        tenant = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "tenant id is empty";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"tenant id is longer than {MaxLength} characters";
            return false;
        }

        if (text is "." or "..")
        {
            error = "tenant id must not be \".\" or \"..\"";
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('!' or '-' or '_' or '.' or '*' or '\'' or '(' or ')'))
            {
                error = "tenant id may only hold ASCII letters, digits and ! - _ . * ' ( )";
                return false;
            }
        }

        tenant = new TenantId(text);
        error = "";
        return true;
    }

    public override string ToString() => Value;
}
