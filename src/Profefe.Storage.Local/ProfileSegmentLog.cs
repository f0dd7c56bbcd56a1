using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Profefe.Storage.Local;

/// <summary>
/// The profiles' bytes: append-only segment files of <see cref="ProfileSegmentRecord"/>s, written only by the
/// writer thread. Keeping them out of SQLite writes each profile once, sequentially, instead of into B-tree
/// pages that the write-ahead log and then the checkpoint write again; and retention deletes whole files.
/// </summary>
internal sealed partial class ProfileSegmentLog : IDisposable
{
    public const string DirectoryName = "segments";
    private const string Extension = ".seg";

    private readonly long _segmentBytes;
    private readonly long? _maxTotalBytes;
    private FileStream? _active;
    private long _totalBytes;
    private long _lowestNext = 1;

    public ProfileSegmentLog(string dataDirectory, long segmentBytes, long? maxTotalBytes)
    {
        Directory = Path.Combine(dataDirectory, DirectoryName);
        _segmentBytes = segmentBytes;
        _maxTotalBytes = maxTotalBytes;
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var segment in List())
        {
            _totalBytes += new FileInfo(PathOf(segment)).Length;
        }
    }

    public string Directory { get; }

    /// <summary>The segment appends go to; 0 until the first append or <see cref="Resume"/>.</summary>
    public long ActiveSegment { get; private set; }

    public long ActiveLength { get; private set; }

    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    public string PathOf(long segment) => Path.Combine(Directory, segment.ToString("D12", CultureInfo.InvariantCulture) + Extension);

    /// <summary>Segment numbers on disk, ascending.</summary>
    public List<long> List()
    {
        var segments = new List<long>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out var segment) && segment > 0)
            {
                segments.Add(segment);
            }
        }

        segments.Sort();
        return segments;
    }

    /// <summary>
    /// New segments get numbers from <paramref name="segment"/> on: the index still knows of segments up to just
    /// below it, whose files may be gone, and a new file must not inherit what it says of an old one.
    /// </summary>
    public void NumberNewSegmentsFrom(long segment) => _lowestNext = Math.Max(_lowestNext, segment);

    /// <summary>Continues appending to <paramref name="segment"/> (cut to <paramref name="length"/>, a record boundary).</summary>
    public void Resume(long segment, long length)
    {
        _active?.Dispose();
        _active = Open(segment);
        if (_active.Length != length)
        {
            Interlocked.Add(ref _totalBytes, length - _active.Length);
            _active.SetLength(length);
            _active.Flush(flushToDisk: true);
        }

        ActiveSegment = segment;
        ActiveLength = length;
    }

    /// <summary>
    /// Writes <paramref name="records"/> at the end of the active segment, first starting a new segment when the
    /// active one is full; returns where they start. Not durable until <see cref="Sync"/>.
    /// </summary>
    public (long Segment, long Offset) Append(IReadOnlyList<ReadOnlyMemory<byte>> records, long length)
    {
        if (_maxTotalBytes is { } most && TotalBytes + length > most)
        {
            throw new IOException($"No space left on device (the store's data is capped at {most} bytes)");
        }

        if (_active is null || (ActiveLength > 0 && ActiveLength + length > _segmentBytes))
        {
            Roll();
        }

        var offset = ActiveLength;
        try
        {
            // One gathering write (pwritev) for the whole batch.
            RandomAccess.Write(_active!.SafeFileHandle, records, offset);
        }
        catch (IOException)
        {
            // A write cut short (disk full) may have left part of the records behind; they were never acknowledged.
            _active!.SetLength(offset);
            throw;
        }

        ActiveLength += length;
        Interlocked.Add(ref _totalBytes, length);
        return (ActiveSegment, offset);
    }

    /// <summary>Makes every append so far durable.</summary>
    public void Sync() => _active?.Flush(flushToDisk: true);

    /// <summary>Removes appends after <paramref name="offset"/> of the active segment: they were never acknowledged.</summary>
    public void TruncateActive(long offset)
    {
        if (_active is null || offset >= ActiveLength)
        {
            return;
        }

        _active.SetLength(offset);
        Interlocked.Add(ref _totalBytes, offset - ActiveLength);
        ActiveLength = offset;
    }

    public void Delete(long segment)
    {
        var path = PathOf(segment);
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return;
        }

        var length = file.Length;
        file.Delete();
        Interlocked.Add(ref _totalBytes, -length);
    }

    /// <summary>Makes creations and deletions of segment files durable (their directory entries).</summary>
    public void SyncDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            // NTFS journals directory changes; there is no directory handle to flush.
            return;
        }

        var descriptor = OpenDirectory(Directory, 0);
        if (descriptor < 0)
        {
            throw new IOException($"cannot open {Directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (FSync(descriptor) != 0)
            {
                throw new IOException($"cannot sync {Directory} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/>; null when the segment is gone.</summary>
    public static byte[]? Read(Dictionary<long, SafeFileHandle> handles, string directory, long segment, long offset, int length)
    {
        if (!handles.TryGetValue(segment, out var handle))
        {
            try
            {
                handle = File.OpenHandle(Path.Combine(directory, segment.ToString("D12", CultureInfo.InvariantCulture) + Extension), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException)
            {
                // Retention removed it after the index row was read: the profile is gone.
                return null;
            }

            handles.Add(segment, handle);
        }

        var buffer = GC.AllocateUninitializedArray<byte>(length);
        var total = 0;
        while (total < length)
        {
            var read = RandomAccess.Read(handle, buffer.AsSpan(total), offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total == length ? buffer : throw new InvalidDataException($"segment {segment} ends before offset {offset + length}");
    }

    public void Dispose()
    {
        if (_active is not null)
        {
            _active.Flush(flushToDisk: true);
            _active.Dispose();
            _active = null;
        }
    }

    private void Roll()
    {
        // Resume made the newest file the active one, so nothing on disk is numbered above it.
        var next = Math.Max(_lowestNext, ActiveSegment + 1);
        if (_active is not null)
        {
            _active.Flush(flushToDisk: true);
            _active.Dispose();
            _active = null;
        }

        _active = Create(next);
        ActiveSegment = next;
        ActiveLength = 0;
        SyncDirectory();
    }

    private FileStream Open(long segment) =>
        new(PathOf(segment), FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, bufferSize: 0);

    private FileStream Create(long segment) =>
        new(PathOf(segment), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, bufferSize: 0);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenDirectory(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
