using System.Runtime.ExceptionServices;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Pprof;

namespace Profefe.Core.Query;

/// <summary>
/// Merges stored profiles given by id. Decoding is most of a merge's cost, so a big merge runs in contiguous
/// parts on several threads, each reading and folding its share into its own merger, and the parts' results
/// are then merged in order. Samples, locations, functions and mappings get their ids by first appearance,
/// so the result is the one a single merger gives for the same order of profiles.
/// </summary>
internal static class StoredProfileMerger
{
    // Fewer profiles than this per part: starting a thread costs more than it saves.
    private const int MinProfilesPerPart = 32;

    // Each part holds one decoded profile and its own merge tables at a time; the part count bounds that memory.
    private const int MaxParts = 4;

    public static int PartsFor(int count) => Math.Clamp(Math.Min(Environment.ProcessorCount, count / MinProfilesPerPart), 1, MaxParts);

    /// <param name="multiplicity">For merges by id: how often each id counts (an id given twice is merged twice).</param>
    /// <param name="parts">Threads to use; by default from <see cref="PartsFor"/>.</param>
    /// <exception cref="ProfileFormatException">a profile cannot be decoded or does not fit the others.</exception>
    public static async Task<StoredMerge> MergeAsync(
        IProfileReader reader,
        TenantId tenant,
        IReadOnlyList<ProfileId> ids,
        IReadOnlyDictionary<ProfileId, int>? multiplicity,
        ProfileDecoderOptions decoderOptions,
        CancellationToken cancellationToken,
        int? parts = null)
    {
        var partCount = Math.Clamp(parts ?? PartsFor(ids.Count), 1, Math.Max(1, ids.Count));
        var merges = new MergePart[partCount];
        for (var i = 0; i < merges.Length; i++)
        {
            var start = ids.Count * i / merges.Length;
            var end = ids.Count * (i + 1) / merges.Length;
            var slice = new ProfileId[end - start];
            for (var k = start; k < end; k++)
            {
                slice[k - start] = ids[k];
            }

            merges[i] = new MergePart(tenant, slice, multiplicity, decoderOptions);
        }

        if (merges.Length == 1)
        {
            await merges[0].RunAsync(reader, null, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var tasks = new Task[merges.Length];
            for (var i = 0; i < merges.Length; i++)
            {
                var part = merges[i];
                tasks[i] = Task.Run(() => part.RunAsync(reader, stop, stop.Token), CancellationToken.None);
            }

            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch (Exception) when (FirstFailure(tasks) is { } failure)
            {
                // Not the sibling's cancellation that the failure caused: the failure itself.
                ExceptionDispatchInfo.Throw(failure);
            }
        }

        return Combine(merges);
    }

    private static StoredMerge Combine(MergePart[] parts)
    {
        var found = new HashSet<ProfileId>();
        var merged = 0;
        foreach (var part in parts)
        {
            found.UnionWith(part.Found);
            merged += part.Merger.Count;
        }

        if (merged == 0)
        {
            return new StoredMerge(null, found, 0);
        }

        if (parts.Length == 1)
        {
            return new StoredMerge(parts[0].Merger.ToProfile(), found, merged);
        }

        var combined = new ProfileMerger();
        long timeNanos = 0;
        foreach (var part in parts)
        {
            if (part.Merger.Count == 0)
            {
                continue;
            }

            var partial = part.Merger.ToProfile();
            // The merger keeps a zero time only until a later profile has one (Go's quirk): folding the
            // parts' times directly would lose a part's zero that reset what came before it.
            timeNanos = part.SawZeroTime || timeNanos == 0 ? partial.TimeNanos : Math.Min(timeNanos, partial.TimeNanos);
            combined.Add(partial);
        }

        var profile = combined.ToProfile();
        profile.TimeNanos = timeNanos;
        return new StoredMerge(profile, found, merged);
    }

    private static Exception? FirstFailure(Task[] tasks)
    {
        foreach (var task in tasks)
        {
            if (task.Exception?.InnerException is { } error && error is not OperationCanceledException)
            {
                return error;
            }
        }

        return null;
    }

    private sealed class MergePart(TenantId tenant, ProfileId[] ids, IReadOnlyDictionary<ProfileId, int>? multiplicity, ProfileDecoderOptions decoderOptions)
    {
        public ProfileMerger Merger { get; } = new();

        public HashSet<ProfileId> Found { get; } = [];

        public bool SawZeroTime { get; private set; }

        public async Task RunAsync(IProfileReader reader, CancellationTokenSource? stopOthers, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var stored in reader.ListProfilesAsync(tenant, ids, cancellationToken).ConfigureAwait(false))
                {
                    var times = 1;
                    if (multiplicity is not null)
                    {
                        if (!Found.Add(stored.Meta.ProfileId))
                        {
                            continue;
                        }

                        times = multiplicity.GetValueOrDefault(stored.Meta.ProfileId);
                    }

                    for (; times > 0; times--)
                    {
                        var profile = ProfileDecoder.Decode(stored.Data.Span, decoderOptions);
                        SawZeroTime |= profile.TimeNanos == 0;
                        Merger.Add(profile);
                    }
                }
            }
            catch when (stopOthers is not null)
            {
                await stopOthers.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
    }
}

/// <summary>The merged profile (null when none of the ids was found), the ids found, and how many profiles were merged.</summary>
internal sealed record StoredMerge(Profile? Profile, HashSet<ProfileId> Found, int Merged);
