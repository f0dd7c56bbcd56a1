#!/usr/bin/env python3
"""Writes the synthetic legacy inputs in ../inputs (edge cases the pprof test data does not cover)."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "inputs")
src = os.path.join(here, "..", "..", "pprof-thirdparty", "google-pprof")
os.makedirs(out, exist_ok=True)


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


# cppbench.cpu (64-bit little-endian) re-encoded as 64-bit big-endian: same words, other byte order.
raw = open(os.path.join(src, "profile__testdata__cppbench.cpu"), "rb").read()
words = []
pos = 0
hdr = struct.unpack_from("<5Q", raw, 0)
words.extend(hdr)
pos = 40
while True:
    count, n = struct.unpack_from("<2Q", raw, pos)
    pos += 16
    addrs = struct.unpack_from("<%dQ" % n, raw, pos)
    pos += 8 * n
    words.extend([count, n, *addrs])
    if count == 0 and n == 1 and addrs[0] == 0:
        break
write("cpu_be64.prof", struct.pack(">%dQ" % len(words), *words) + raw[pos:])

maps = (
    "MAPPED_LIBRARIES:\n"
    "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon\n"
    "00651000-00652000 r--p 00051000 08:02 173521      /usr/bin/dbus-daemon\n"
    "40000000-40015000 r-xp 00000000 03:01 12345       /lib/ld-2.3.2.so\n"
)


def cpu32(fmt, samples, period=10000, tail=maps):
    ws = [0, 3, 0, period, 0]
    for count, stack in samples:
        ws.extend([count, len(stack), *stack])
    ws.extend([0, 1, 0])
    return struct.pack(fmt % len(ws), *ws) + tail.encode()


samples32 = [
    (3, [0x400100, 0x400210, 0x400320]),
    (2, [0x400104, 0x400210, 0x400320]),
    (1, [0x40000100, 0x400211, 0x400320]),
    (5, [0x400500, 0x400501, 0x400320]),  # leaf duplicated by the unwinder (addr+1 == leaf)
]
write("cpu_le32.prof", cpu32("<%dI", samples32))
write("cpu_be32.prof", cpu32(">%dI", samples32))
# Every sample shares its second frame (a signal-handler frame): Go strips it.
write("cpu_le32_handler.prof", cpu32("<%dI", [(1, [0x400100 + i, 0x400900, 0x400320 + i]) for i in range(40)]))
# No end-of-data marker, truncated mid stack.
write("cpu_le32_truncated.prof", cpu32("<%dI", samples32, tail="")[:-20])
# Stack size past the end of the data.
write("cpu_le32_badsize.prof", struct.pack("<8I", 0, 3, 0, 10000, 0, 1, 1000, 0x400100))
# Java CPU profile header word 3 == 1, with a symbol section.
jws = [0, 3, 1, 10000, 0, 4, 2, 1, 2, 1, 2, 3, 2, 0, 1, 0]
write("cpu_java_le32.prof", struct.pack("<%dI" % len(jws), *jws) +
      b"\n 0x0000001 com.example.Main.run (Main.java:12)\n 0x00000002 libfoo.so (/usr/lib/libfoo.so)\n"
      b" 0x3 generated stub/JIT\n 0x4 GC\n")

write("heap_v2_sampled.heap",
      "heap profile:    3:  3072 [   5:  9000] @ heap_v2/524288\n"
      "     2:  2048 [     3:  6000] @ 0x400100 0x400200\n"
      "     1:  1024 [     2:  3000] @ 0x400104 0x400200\n"
      "     0:     0 [     0:     0] @ 0x400108\n"
      + maps)
write("heap_v2_rate1.heap",
      "heap profile:    3:  3072 [   3:  3072] @ heap_v2/1\n"
      "     2:  2048 [     2:  2048] @ 0x400100 0x400200\n"
      "     1:  1024 [     1:  1024] @ 0x400104 0x400200\n")
write("heap_heapprofile.heap",
      "# comment line\n"
      "heap profile:    3:  3072 [   0:  0] @ heapprofile\n"
      "\n"
      "     2:  2048 [     0:  0] @ 0x400100 0x400200\n"
      "# another comment\n"
      "     1:  1024 [     0:  0] @ 0x400104 0x400200\n")
write("heap_fragmentation.heap",
      "heap profile:    3:  3072 [   3:  3072] @ fragmentationz\n"
      "     2:  2048 [     2:  2048] @ 0x400100 0x400200\n")
write("heap_zero_count.heap",
      "heap profile:    3:  3072 [   3:  3072] @ heap_v2/524288\n"
      "     0:  2048 [     2:  2048] @ 0x400100 0x400200\n")
write("heap_bad_address.heap",
      "heap profile:    3:  3072 [   3:  3072] @ heap_v2/524288\n"
      "     1:  2048 [     1:  2048] @ 0x400100 0x10000000000000000\n")
write("heap_bad_sample.heap",
      "heap profile:    3:  3072 [   3:  3072] @ heap_v2/524288\n"
      "this is not a sample\n")
write("heap_maps_variants.heap",
      "heap profile:    3:  3072 [   3:  3072] @ heap_v2/524288\n"
      "     1:  1024 [     1:  1024] @ 0x1001 0x5001 0x9001 0x40001 0x60001\n"
      "--- Memory map: ---\n"
      "/anon_hugepage 0x0-0x1000\n"
      "I1126 04:00:00.000 12345 file.cc:42] 0x1000-0x2000 /bin/main (@0) abc123\n"
      "build=deadbeef\n"
      "0x2000-0x8000 /bin/main (@1000) $build\n"
      "0x8000 0xa000 r-xp 00000000 08:02 1 /lib/libc.so.6\n"
      "0xa000-0xb000 rw-p 00000000 08:02 1 /lib/libc.so.6\n"
      "0x50000-0x70000 /usr/lib/libz.so.1 (@40000)\n"
      "garbage line\n")
write("goroutine.count",
      "goroutine profile: total 4\n"
      "3 @ 0x42f9b6 0x43d7b2 0x45c741\n"
      "1 @ 0x42f9b6 0x404c41\n"
      "\n"
      "--- some trailer\n"
      "MAPPED_LIBRARIES:\n"
      "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/app\n")
write("goroutine_malformed.count", "threadcreate profile: total 1\n1 @ 0xzz\n")
write("mutex_go.contention",
      "--- mutex:\n"
      "cycles/second=2000000000\n"
      "sampling period=5\n"
      "4000 3 @ 0x400100 0x400200\n"
      "1000 1 @ 0x400104\n")
write("contention_nohz.contention",
      "--- contention:\n"
      "sampling period = 10\n"
      "100 2 @ 0x400100 0x400200\n")
write("contention_format.contention",
      "--- contentionz 1 ---\n"
      "format = java\n"
      "100 2 @ 0x400100\n")
write("contention_nosep.contention",
      "--- contention:\n"
      "1234 @ 0x400100\n"
      "12 34 @ 0x400200\n")
write("java_heap_noresolution.heap", "--- heapz 1 ---\nformat = java\n  100 2 @ 0x1 0x2\n\n 0x1 foo\n")
write("java_heap_zero.heap", "--- heapz 1 ---\nformat = java\nresolution = bytes\n  100 0 @ 0x1\n")
write("thread_nostack.thread",
      "--- Thread 7f794ab90940 (name: main/14748) stack: ---\n"
      "  PC: 0x400100 0x400201 0x400300\n"
      "--- Thread 7f794ab90941 (name: worker/14749) stack: ---\n"
      "  [same as previous thread]\n"
      "--- Thread 7f794ab90942 (name: other/14750) stack: ---\n"
      "  PC: 0x400500 0x400501 0x400300\n"
      "---- no stack trace for 1 threads\n")
write("thread_noend.thread",
      "--- Thread 7f794ab90940 (name: main/14748) stack: ---\n"
      "  PC: 0x400100 0x400201 0x400300\n")
write("long_line.heap", "heap profile: " + "1" * 70000 + "\n")
write("long_line_later.heap",
      "heap profile:    3:  3072 [   3:  3072] @ heap_v2/524288\n"
      "     1:  1024 [     1:  1024] @ 0x400100" + " 0x400200" * 8000 + "\n")
write("not_legacy.txt", "hello world\nthis is nothing\n")
write("heap_heapprofile_plain.heap",
      "heap profile:    3:  3072 [   0:  0] @ heapprofile\n"
      "\n"
      "     2:  2048 [     0:  0] @ 0x400100 0x400200\n"
      "# another comment\n"
      "     1:  1024 [     0:  0] @ 0x400104 0x400200\n")
write("heap_crlf_negative.heap",
      "heap profile:    3:  3072 [   3:  3072] @ heap_v2/4096\r\n"
      "    -1: -1024 [     1:  1024] @ 0x400100 0x400200\r\n"
      "     1: 9223372036854775807 [     1: 9223372036854775807] @ 0x400104\r\n"
      "     3: 10 [     7: 70] @ 0x400108\r\n")
write("heap_overflow.heap",
      "heap profile:    3:  3072 [   3:  3072] @ heap_v2/4096\n"
      "     1: 99999999999999999999 [     1:  1024] @ 0x400100\n")
write("goroutine_octal.count",
      "# leading comment\n"
      "\n"
      "goroutine profile: total 9\n"
      "010 @ 0x1 0x2\n"
      "1 @ 0x0\n")
write("goroutine_bad_octal.count", "goroutine profile: total 9\n09 @ 0x1\n")
write("contentionz_hex_hz.contention",
      "--- contentionz 1 ---\n"
      "cycles/second = 0x77359400\n"
      "sampling period = 0_10\n"
      "ms since reset = 1_000\n"
      "# a comment\n"
      "9223372036854775807 9223372036854775807 @ 0x400100\n"
      "  2000   1 @ 0x400100 0x400200\n"
      "--- Memory map: ---\n"
      "0x400000-0x500000 /bin/server (@0) feedface\n")
write("contention_overflow.contention",
      "--- contention:\n"
      "99999999999999999999 1 @ 0x400100\n")
write("java_contention_attrs.contention",
      "--- contentionz 1 ---\n"
      "format = java\n"
      "resolution = microseconds\n"
      "sampling period = 1_000\n"
      "ms since reset = 20\n"
      "  010  2 @ 0x1 0x2\n"
      "   7  3 @ 0x2\n"
      "\n"
      " 0x1 com.example.A.run  (A.java:-3)\n"
      " 0x2 com.example.B.run (weird (B.java:x:12)\n"
      " 0x2 ignored second description\n"
      " 0xq not a location\n")
write("java_bad_attribute.contention",
      "--- contentionz 1 ---\nformat = java\nsampling period = abc\n")
write("java_bad_value.heap",
      "--- heapz 1 ---\nformat = java\nresolution = bytes\n  100 09 @ 0x1\n")
write("thread_memory_map.thread",
      "--- threadz 1 ---\n"
      "# comment\n"
      "--- Thread 1 (name: a/1) stack: ---\n"
      "  PC: 0x400100 0x400201\n"
      "--- Thread 2 (name: b/2) stack: ---\n"
      "  PC: 0x400100 0x400201\n"
      "  [same as previous thread]\n"
      "--- Memory map: ---\n"
      "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/app\n")
write("cpu_le64_hugepage.prof",
      struct.pack("<5Q", 0, 3, 0, 100, 0) +
      struct.pack("<5Q", 2, 3, 0x401000, 0x402000, 0x7f0000001000) +
      struct.pack("<3Q", 0, 1, 0) +
      b"/anon_hugepage 0x100000-0x400000 r-xp\n"
      b"0x400000-0x600000 r-xp 00200000 08:02 1 /bin/app\n"
      b"7f0000000000-7f0000100000 r-xp 00000000 08:02 2 /lib/x86_64-linux-gnu/libc.so.6 (deleted)\n")
write("cpu_be64_java.prof",
      struct.pack(">13Q", 0, 3, 1, 20000, 0, 3, 1, 0x10, 0, 1, 0, 0, 0) + b"0x10 Interpreter\n")


def padded(length):
    line = "1: 1 [ 1: 1] @ 0x400100"
    return line + " " * (length - len(line))


hdr = "heap profile:    1:  1 [   1:  1] @ heap_v2/524288\n"
write("line_65535.heap", hdr + padded(65535) + "\n")
write("line_65536.heap", hdr + padded(65536) + "\n")
write("line_65535_final.heap", hdr + padded(65535))
write("line_65536_final.heap", hdr + padded(65536))
write("heap_attr_priority.heap",
      "heap profile:    1:  1 [   1:  1] @ heap_v2/524288\n"
      "     1:  1 [     1:  1] @ 0x1001 0x3001\n"
      "MAPPED_LIBRARIES:\n"
      "li=/short\n"
      "lib = /first\n"
      "lib=/second\n"
      "0x1000-0x2000 $lib/x.so\n"
      "0x3000-0x4000 $$li$lib $li\n")
