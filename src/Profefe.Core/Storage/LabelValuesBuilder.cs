namespace Profefe.Core.Storage;

/// <summary>Gathers label pairs as every backend answers <see cref="IProfileReader.ListLabelsAsync"/>: keys and their distinct values, sorted ordinally.</summary>
public sealed class LabelValuesBuilder
{
    private readonly SortedDictionary<string, SortedSet<string>> _byKey = new(StringComparer.Ordinal);

    public void Add(string key, string value)
    {
        if (!_byKey.TryGetValue(key, out var values))
        {
            values = new SortedSet<string>(StringComparer.Ordinal);
            _byKey.Add(key, values);
        }

        values.Add(value);
    }

    public List<LabelValues> ToList()
    {
        var result = new List<LabelValues>(_byKey.Count);
        foreach (var (key, values) in _byKey)
        {
            result.Add(new LabelValues(key, [.. values]));
        }

        return result;
    }
}
