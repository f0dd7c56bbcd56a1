namespace Profefe.Pprof;

/// <summary>
/// Checks a profile the way Go's <c>Profile.CheckValid</c> does, and repairs the one thing real profilers
/// commonly get wrong: ids that are 0 or repeated.
/// </summary>
public static class ProfileValidator
{
    /// <exception cref="ProfileFormatException">"malformed profile: …" naming the first problem found.</exception>
    public static void Check(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (FindProblem(profile) is { } problem)
        {
            throw new ProfileFormatException("malformed profile: " + problem);
        }
    }

    /// <summary>What is wrong with <paramref name="profile"/>, in the words of Go's CheckValid; null when valid.</summary>
    public static string? FindProblem(Profile profile) => FindProblem(profile, checkReferences: true);

    /// <param name="checkReferences">
    /// False skips proving that every referenced mapping, function and location is in its table: the proto
    /// decoder resolves references only through the tables, so for its output that holds by construction.
    /// </param>
    internal static string? FindProblem(Profile profile, bool checkReferences)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var typeCount = profile.SampleTypes.Count;
        if (typeCount == 0 && profile.Samples.Count != 0)
        {
            return "missing sample type information";
        }

        var samples = profile.Samples;
        for (var i = 0; i < samples.Count; i++)
        {
            var sample = samples[i];
            if (sample is null)
            {
                return "profile has nil sample";
            }

            if (sample.Values.Length != typeCount)
            {
                return $"mismatch: sample {i} has {sample.Values.Length} values vs. {typeCount} types";
            }

            foreach (var location in sample.Locations)
            {
                if (location is null)
                {
                    return $"sample {i} has nil location";
                }
            }
        }

        if (!checkReferences)
        {
            return null;
        }

        if (FindTableProblem(profile.Mappings, static m => m.Id, "mapping") is { } mappingProblem)
        {
            return mappingProblem;
        }

        if (FindTableProblem(profile.Functions, static f => f.Id, "function") is { } functionProblem)
        {
            return functionProblem;
        }

        if (FindTableProblem(profile.Locations, static l => l.Id, "location") is { } locationProblem)
        {
            return locationProblem;
        }

        var mappings = new TableLookup<Mapping>(profile.Mappings, static m => m.Id);
        var functions = new TableLookup<Function>(profile.Functions, static f => f.Id);
        var locations = new TableLookup<Location>(profile.Locations, static l => l.Id);
        foreach (var location in profile.Locations)
        {
            if (location.Mapping is { } mapping && !mappings.Contains(mapping, mapping.Id))
            {
                return $"location id: {location.Id} refers to mapping id {mapping.Id} that is not in the profile's mappings";
            }

            foreach (var line in location.Lines)
            {
                if (line.Function is not { } function)
                {
                    return $"location id: {location.Id} has a line with nil function";
                }

                if (!functions.Contains(function, function.Id))
                {
                    return $"location id: {location.Id} refers to function id {function.Id} that is not in the profile's functions";
                }
            }
        }

        for (var i = 0; i < samples.Count; i++)
        {
            foreach (var location in samples[i].Locations)
            {
                if (!locations.Contains(location, location.Id))
                {
                    return $"sample {i} refers to location id {location.Id} that is not in the profile's locations";
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Renumbers the mappings, functions and locations 1..N in table order when a table has an id 0 or a
    /// repeated id. Go's pprof rejects both, but some profilers (for example .NET ones numbering from 0)
    /// write them; the references are objects in this model, so new ids keep every stack intact.
    /// Tables whose ids are already unique and non-zero keep their ids.
    /// </summary>
    /// <returns>True when some ids changed.</returns>
    public static bool NormalizeIds(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var changed = Renumber(profile.Mappings, static (m, id) => m.Id = id, static m => m.Id);
        changed |= Renumber(profile.Functions, static (f, id) => f.Id = id, static f => f.Id);
        changed |= Renumber(profile.Locations, static (l, id) => l.Id = id, static l => l.Id);
        return changed;
    }

    private static bool Renumber<T>(List<T> table, Action<T, ulong> setId, Func<T, ulong> getId)
        where T : class
    {
        if (IdsAreValid(table, getId))
        {
            return false;
        }

        for (var i = 0; i < table.Count; i++)
        {
            if (table[i] is { } item)
            {
                setId(item, (ulong)i + 1);
            }
        }

        return true;
    }

    /// <summary>True when every id is non-zero and unique (fast when they are 1..N in order, as Go writes them).</summary>
    internal static bool IdsAreValid<T>(List<T> table, Func<T, ulong> getId)
        where T : class
    {
        var sequential = true;
        for (var i = 0; i < table.Count; i++)
        {
            if (table[i] is not { } item || getId(item) != (ulong)i + 1)
            {
                sequential = false;
                break;
            }
        }

        if (sequential)
        {
            return true;
        }

        var seen = new HashSet<ulong>();
        foreach (var item in table)
        {
            if (item is null)
            {
                continue;
            }

            var id = getId(item);
            if (id == 0 || !seen.Add(id))
            {
                return false;
            }
        }

        return true;
    }

    private static string? FindTableProblem<T>(List<T> table, Func<T, ulong> getId, string what)
        where T : class
    {
        if (IdsAreValid(table, getId))
        {
            foreach (var item in table)
            {
                if (item is null)
                {
                    return $"profile has nil {what}";
                }
            }

            return null;
        }

        var seen = new HashSet<ulong>();
        foreach (var item in table)
        {
            if (item is null)
            {
                return $"profile has nil {what}";
            }

            var id = getId(item);
            if (id == 0)
            {
                return $"found {what} with reserved id=0";
            }

            if (!seen.Add(id))
            {
                return $"multiple {what}s with same id: {id}";
            }
        }

        return null;
    }

    /// <summary>Answers "is this very object in the table under this id" without a dictionary when ids are 1..N.</summary>
    private readonly struct TableLookup<T>
        where T : class
    {
        private readonly List<T> _table;
        private readonly Dictionary<ulong, T>? _byId;

        public TableLookup(List<T> table, Func<T, ulong> getId)
        {
            _table = table;
            for (var i = 0; i < table.Count; i++)
            {
                if (getId(table[i]) != (ulong)i + 1)
                {
                    _byId = new Dictionary<ulong, T>(table.Count);
                    foreach (var item in table)
                    {
                        _byId[getId(item)] = item;
                    }

                    break;
                }
            }
        }

        public bool Contains(T item, ulong id)
        {
            if (_byId is { } byId)
            {
                return byId.TryGetValue(id, out var found) && ReferenceEquals(found, item);
            }

            return id - 1 < (ulong)_table.Count && ReferenceEquals(_table[(int)(id - 1)], item);
        }
    }
}
