namespace Profefe.Core;

/// <summary>A key=value pair attached to a profile when it is stored (service instance, region, version, …).</summary>
public readonly record struct Label(string Key, string Value);
