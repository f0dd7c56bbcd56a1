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

    /// <summary>
    /// The tenant as storage keys it, first in every index and key: empty for <see cref="Default"/>, so data
    /// stored before tenants existed (keyed by nothing) is the default tenant's without a rewrite.
    /// </summary>
    public string Key => IsDefault ? "" : _value!;

    public bool IsDefault => _value is null || _value == Default._value;

    /// <summary>The tenant a storage <see cref="Key"/> stands for.</summary>
    /// <exception cref="ArgumentException">the key is neither empty nor a valid tenant id.</exception>
    public static TenantId FromKey(string key) => string.IsNullOrEmpty(key) ? Default : Parse(key);

    // default(TenantId) is the default tenant: equality goes by Value, not by the field.
    public bool Equals(TenantId other) => Value == other.Value;

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

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
