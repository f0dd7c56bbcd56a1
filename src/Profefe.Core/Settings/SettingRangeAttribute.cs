using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Profefe.Core.Settings;

/// <summary>
/// A <see cref="RangeAttribute"/> whose failure names the configuration key and the value it was given
/// ("Collector:MaxBodyBytes is 0; it must be at least 1"), which [Range]'s own message cannot: it formats the
/// member's name and the bounds only.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingRangeAttribute : ValidationAttribute
{
    private readonly RangeAttribute _range;

    public SettingRangeAttribute(string setting, double minimum, double maximum)
    {
        Setting = setting;
        _range = new RangeAttribute(minimum, maximum);
    }

    /// <param name="type">The value's type, e.g. <see cref="TimeSpan"/>; the bounds are parsed in the invariant culture.</param>
    public SettingRangeAttribute(string setting, Type type, string minimum, string maximum)
    {
        Setting = setting;
        _range = new RangeAttribute(type, minimum, maximum) { ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true };
    }

    /// <summary>The configuration key, e.g. "Collector:MaxBodyBytes".</summary>
    public string Setting { get; }

    /// <summary>What the value must be, when the bounds say it badly (e.g. "positive" for a TimeSpan above zero).</summary>
    public string? Must { get; set; }

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        if (value is null || _range.IsValid(value))
        {
            return ValidationResult.Success;
        }

        // int.MaxValue and above stand for "no upper bound".
        var must = Must ?? (_range.Maximum is double maximum && maximum >= int.MaxValue
            ? "at least " + Text(_range.Minimum)
            : $"from {Text(_range.Minimum)} to {Text(_range.Maximum)}");
        return new ValidationResult($"{Setting} is {Text(value)}; it must be {must}", [validationContext.MemberName ?? Setting]);
    }

    private static string? Text(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture);
}
