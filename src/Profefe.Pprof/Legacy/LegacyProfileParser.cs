namespace Profefe.Pprof.Legacy;

/// <summary>
/// The pre-proto formats Go's profile.Parse still accepts: gperftools' binary CPU profile and the text
/// heap, growth, contention and thread profiles (C++ and Java flavours) plus Go's text count profiles.
/// Each converter reproduces what Go's pprof makes of the same bytes: sample types, periods, value
/// scaling, adjusted return addresses, location and mapping tables and their ids.
/// </summary>
internal static class LegacyProfileParser
{
    private const string CpuProfilerFrames =
        "ProfileData::Add|ProfileData::prof_handler|CpuProfiler::prof_handler|__pthread_sighandler|__restore";

    private const string AllocationFrames =
        "calloc|cfree|malloc|free|memalign|do_memalign|(__)?posix_memalign|pvalloc|valloc|realloc|" +
        "tcmalloc::.*|tc_calloc|tc_cfree|tc_malloc|tc_free|tc_memalign|tc_posix_memalign|tc_pvalloc|tc_valloc|" +
        "tc_realloc|tc_new|tc_delete|tc_newarray|tc_deletearray|tc_new_nothrow|tc_newarray_nothrow|" +
        "malloc_zone_malloc|malloc_zone_calloc|malloc_zone_valloc|malloc_zone_realloc|malloc_zone_memalign|" +
        "malloc_zone_free|runtime\\..*|BaseArena::.*|(::)?do_malloc_no_errno|(::)?do_malloc_pages|(::)?do_malloc|" +
        "DoSampledAllocation|MallocedMemBlock::MallocedMemBlock|_M_allocate|__builtin_(vec_)?delete|" +
        "__builtin_(vec_)?new|__gnu_cxx::new_allocator::allocate|__libc_malloc|__malloc_alloc_template::allocate|" +
        "allocate|cpp_alloc|operator new(\\[\\])?|simple_alloc::allocate";

    private const string AllocationKeepFrames = "runtime\\.panic|runtime\\.reflectcall|runtime\\.call[0-9]*";

    private const string LockFrames =
        "RecordLockProfileData|(base::)?RecordLockProfileData.*|(base::)?SubmitMutexProfileData.*|" +
        "(base::)?SubmitSpinLockProfileData.*|(base::Mutex::)?AwaitCommon.*|(base::Mutex::)?Unlock.*|" +
        "(base::Mutex::)?UnlockSlow.*|(base::Mutex::)?ReaderUnlock.*|(base::MutexLock::)?~MutexLock.*|" +
        "(Mutex::)?AwaitCommon.*|(Mutex::)?Unlock.*|(Mutex::)?UnlockSlow.*|(Mutex::)?ReaderUnlock.*|" +
        "(MutexLock::)?~MutexLock.*|(SpinLock::)?Unlock.*|(SpinLock::)?SlowUnlock.*|(SpinLockHolder::)?~SpinLockHolder.*";

    private static readonly string[][] HeapSampleTypes =
    [
        ["allocations", "size"],
        ["objects", "space"],
        ["inuse_objects", "inuse_space"],
        ["alloc_objects", "alloc_space"],
        ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"],
    ];

    /// <summary>False when the data is in none of the legacy formats.</summary>
    /// <exception cref="ProfileFormatException">
    /// the data is in a legacy format but malformed; the message is Go's, prefixed "parsing profile: ".
    /// </exception>
    public static bool TryParse(ReadOnlySpan<byte> data, ProfileDecoderOptions options, out Profile? profile)
    {
        ArgumentNullException.ThrowIfNull(options);
        profile = LegacyCpuParser.Parse(data)
            ?? LegacyTextParser.ParseHeap(data)
            ?? LegacyTextParser.ParseGoCount(data)
            ?? LegacyTextParser.ParseThread(data)
            ?? LegacyTextParser.ParseContention(data)
            ?? LegacyJavaParser.Parse(data);
        if (profile is null)
        {
            return false;
        }

        AddFrameInfo(profile);
        return true;
    }

    /// <summary>The error Go's parseLegacy reports, as ParseData words it.</summary>
    internal static ProfileFormatException Malformed(string goError) => new("parsing profile: " + goError);

    private static void AddFrameInfo(Profile profile)
    {
        if (HasSampleTypes(profile, HeapSampleTypes))
        {
            profile.DropFrames = AllocationFrames;
            profile.KeepFrames = AllocationKeepFrames;
        }
        else if (HasSampleTypes(profile, [["contentions", "delay"]]))
        {
            profile.DropFrames = LockFrames;
            profile.KeepFrames = "";
        }
        else
        {
            profile.DropFrames = CpuProfilerFrames;
            profile.KeepFrames = "";
        }
    }

    private static bool HasSampleTypes(Profile profile, string[][] candidates)
    {
        foreach (var types in candidates)
        {
            if (types.Length != profile.SampleTypes.Count)
            {
                continue;
            }

            var same = true;
            for (var i = 0; i < types.Length && same; i++)
            {
                same = types[i] == profile.SampleTypes[i].Type;
            }

            if (same)
            {
                return true;
            }
        }

        return false;
    }
}
