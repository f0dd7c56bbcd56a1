namespace Profefe.Pprof;

/// <summary>
/// Merges profiles with the semantics of Go's profile.Merge. Profiles are added one at a time so a
/// caller can stream a large merge without holding every input.
/// </summary>
public sealed class ProfileMerger
{
    private int _added;

    /// <exception cref="ProfileFormatException">the profiles are not compatible; the message names the difference.</exception>
    public void Add(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _added++;
        throw new NotImplementedException($"ProfileMerger is being written (issue 2); {_added} added.");
    }

    /// <summary>The merge of everything added so far.</summary>
    public Profile ToProfile() => throw new NotImplementedException("ProfileMerger is being written (issue 2).");

    public static Profile Merge(IEnumerable<Profile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        var merger = new ProfileMerger();
        foreach (var profile in profiles)
        {
            merger.Add(profile);
        }

        return merger.ToProfile();
    }
}
