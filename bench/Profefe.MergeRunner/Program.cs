using System.Buffers;
using System.Diagnostics;
using Profefe.Pprof;

// Merges the pprof files named on the command line into one profile written to stdout, as
// `go tool pprof -proto f1 ... fN` does; with --stats, says on stderr what it cost per profile.
// Up to two threads read and decode, a few profiles ahead, while this one merges them in command-line order.
var stats = args.Length > 0 && args[0] == "--stats";
var paths = stats ? args[1..] : args;
if (paths.Length == 0)
{
    Console.Error.WriteLine("usage: Profefe.MergeRunner [--stats] <profile>...");
    return 2;
}

// The merge keeps little alive, so collecting the young generation often bounds the resident size at
// almost no cost; left to itself the GC lets gen0 grow to tens of megabytes first.
const long CollectEveryBytes = 4 << 20;
const int DecodeAhead = 4;

var stopwatch = Stopwatch.StartNew();

// Decoder k takes the files k, k + n, k + 2n, ...; file i goes through slot i % DecodeAhead, which only
// decoder (i % n) ever uses, as n divides DecodeAhead.
var decoders = Math.Clamp(Environment.ProcessorCount, 1, 2);
var ready = new Profile?[DecodeAhead];
var filled = new SemaphoreSlim[DecodeAhead];
var free = new SemaphoreSlim[DecodeAhead];
for (var slot = 0; slot < DecodeAhead; slot++)
{
    filled[slot] = new SemaphoreSlim(0);
    free[slot] = new SemaphoreSlim(1);
}

var failures = new Exception?[DecodeAhead];
for (var k = 0; k < decoders; k++)
{
    var first = k;
    new Thread(() => DecodeEvery(first, decoders))
    {
        IsBackground = true,
        Name = $"decoder {k}",
    }.Start();
}

var merger = new ProfileMerger();
var allocatedAtCollection = GC.GetTotalAllocatedBytes();
for (var i = 0; i < paths.Length; i++)
{
    var slot = i % DecodeAhead;
    filled[slot].Wait();
    var profile = ready[slot];
    if (profile is null)
    {
        Console.Error.WriteLine($"merging profiles: {failures[slot]?.Message}");
        return 1;
    }

    ready[slot] = null;
    free[slot].Release();
    merger.Add(profile);
    if (GC.GetTotalAllocatedBytes() - allocatedAtCollection > CollectEveryBytes)
    {
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        allocatedAtCollection = GC.GetTotalAllocatedBytes();
    }
}

using (var stdout = Console.OpenStandardOutput())
{
    ProfileEncoder.Encode(merger.ToProfile(), stdout);
}

if (stats)
{
    var allocated = GC.GetTotalAllocatedBytes(precise: true);
    Console.Error.WriteLine(
        $"{paths.Length} profiles in {stopwatch.Elapsed.TotalMilliseconds:F0} ms; allocated {allocated / paths.Length:N0} B per profile, "
        + $"{allocated / (1024.0 * 1024):F1} MiB in all; {GC.CollectionCount(0)} gen0, {GC.CollectionCount(2)} gen2 collections; "
        + $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F1} MiB");
}

return 0;

void DecodeEvery(int first, int step)
{
    var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
    var slot = first % DecodeAhead;
    try
    {
        for (var i = first; i < paths.Length; i += step)
        {
            slot = i % DecodeAhead;
            var length = Read(paths[i], ref buffer);
            var profile = Decode(paths[i], buffer.AsSpan(0, length));
            free[slot].Wait();
            ready[slot] = profile;
            filled[slot].Release();
        }
    }
    catch (Exception e) when (e is ProfileFormatException or IOException or UnauthorizedAccessException)
    {
        // The merge stops at the first file without a profile and reports this.
        free[slot].Wait();
        failures[slot] = e;
        filled[slot].Release();
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }
}

static int Read(string path, ref byte[] buffer)
{
    using var file = File.OpenHandle(path);
    var length = checked((int)RandomAccess.GetLength(file));
    if (buffer.Length < length)
    {
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = ArrayPool<byte>.Shared.Rent(length);
    }

    var read = 0;
    while (read < length)
    {
        var n = RandomAccess.Read(file, buffer.AsSpan(read, length - read), read);
        if (n == 0)
        {
            break;
        }

        read += n;
    }

    return read;
}

static Profile Decode(string path, ReadOnlySpan<byte> data)
{
    try
    {
        return ProfileDecoder.Decode(data);
    }
    catch (ProfileFormatException e)
    {
        throw new ProfileFormatException($"{path}: {e.Message}", e);
    }
}
