using System.Buffers;
using System.Runtime.CompilerServices;

namespace Profefe.Pprof.Legacy;

/// <summary>
/// The small subset of Go's regexp syntax the legacy parsers need, matched over bytes with Go's
/// leftmost-first semantics. Go's pprof defines the legacy formats by its regular expressions, so
/// writing them down the same way (instead of translating each to hand-written code) keeps the
/// corner cases identical. Matching is a backtracker that never revisits a (instruction, position)
/// state, which bounds the work by program size × input length like RE2 does, so no input can make
/// it run away; .NET's own backtracking engine has no such bound, and its non-backtracking engine
/// does not promise the same capture groups.
/// </summary>
internal sealed class GoRegex
{
    private enum Op : byte
    {
        Byte,
        Split,
        Jump,
        Save,
        BeginText,
        EndText,
        Match,
    }

    private readonly record struct Inst(Op Op, int Out, int Arg, ByteSet Set);

    private readonly Inst[] _program;
    private readonly bool _anchored;

    /// <summary>Literal bytes every match starts with: starts elsewhere are skipped without running the program.</summary>
    private readonly byte[] _prefix;

    /// <summary>Bytes every match contains: input lacking one cannot match, found without running the program.</summary>
    private readonly byte[] _required;

    private GoRegex(Inst[] program, int groupCount, bool anchored, byte[] prefix, byte[] required)
    {
        _program = program;
        GroupCount = groupCount;
        _anchored = anchored;
        _prefix = prefix;
        _required = required;
    }

    /// <summary>Number of capture groups, not counting the whole match.</summary>
    public int GroupCount { get; }

    /// <summary>
    /// Longest input matched: scanner lines are at most 64 KiB, memory-map lines after "$name"
    /// substitution are capped at this size by their parser.
    /// </summary>
    public const int MaxInputLength = 1 << 20;

    public static GoRegex Compile(string pattern)
    {
        var compiler = new Compiler(pattern);
        return compiler.Compile();
    }

    /// <summary>
    /// Finds the leftmost-first match. <paramref name="captures"/> receives start/end offsets per group
    /// (group 0 is the whole match), -1 when a group did not take part.
    /// </summary>
    public bool Match(ReadOnlySpan<byte> input, Span<int> captures)
    {
        if (captures.Length < 2 * (GroupCount + 1))
        {
            throw new ArgumentException("capture buffer too small", nameof(captures));
        }

        if (input.Length > MaxInputLength)
        {
            throw new ArgumentException("input longer than " + MaxInputLength + " bytes", nameof(input));
        }

        foreach (var b in _required)
        {
            if (input.IndexOf(b) < 0)
            {
                return false;
            }
        }

        var stride = input.Length + 1;
        var bitCount = (long)_program.Length * stride;
        var words = (int)((bitCount + 63) / 64);
        var visited = ArrayPool<ulong>.Shared.Rent(words);
        var jobs = ArrayPool<Job>.Shared.Rent(64);
        try
        {
            Array.Clear(visited, 0, words);
            var lastStart = _anchored ? 0 : input.Length;
            for (var start = 0; start <= lastStart; start++)
            {
                if (_prefix.Length > 0)
                {
                    var next = input[start..].IndexOf(_prefix);
                    if (next < 0)
                    {
                        return false;
                    }

                    start += next;
                }

                captures.Fill(-1);
                if (Run(input, start, captures, visited, stride, ref jobs))
                {
                    return true;
                }
            }

            return false;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(visited);
            ArrayPool<Job>.Shared.Return(jobs);
        }
    }

    /// <summary>A state to resume (Slot &lt; 0) or a capture slot to restore when backtracking past a Save.</summary>
    private readonly record struct Job(int Pc, int Pos, int Slot, int OldValue);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Run(ReadOnlySpan<byte> input, int start, Span<int> captures, ulong[] visited, int stride, ref Job[] jobs)
    {
        var program = _program;
        var count = 0;
        Push(ref jobs, ref count, new Job(0, start, -1, 0));
        while (count > 0)
        {
            var job = jobs[--count];
            if (job.Slot >= 0)
            {
                captures[job.Slot] = job.OldValue;
                continue;
            }

            var pc = job.Pc;
            var pos = job.Pos;
            while (true)
            {
                // MaxInputLength keeps program × stride far below int.MaxValue.
                var bit = (pc * stride) + pos;
                var mask = 1UL << (bit & 63);
                ref var word = ref visited[bit >> 6];
                if ((word & mask) != 0)
                {
                    break;
                }

                word |= mask;
                ref readonly var inst = ref program[pc];
                var advanced = true;
                switch (inst.Op)
                {
                    case Op.Byte:
                        if (pos < input.Length && inst.Set.Contains(input[pos]))
                        {
                            pos++;
                            pc = inst.Out;
                        }
                        else
                        {
                            advanced = false;
                        }

                        break;
                    case Op.Split:
                        Push(ref jobs, ref count, new Job(inst.Arg, pos, -1, 0));
                        pc = inst.Out;
                        break;
                    case Op.Jump:
                        pc = inst.Out;
                        break;
                    case Op.Save:
                        Push(ref jobs, ref count, new Job(0, 0, inst.Arg, captures[inst.Arg]));
                        captures[inst.Arg] = pos;
                        pc = inst.Out;
                        break;
                    case Op.BeginText:
                        advanced = pos == 0;
                        pc = inst.Out;
                        break;
                    case Op.EndText:
                        advanced = pos == input.Length;
                        pc = inst.Out;
                        break;
                    case Op.Match:
                        captures[0] = start;
                        captures[1] = pos;
                        return true;
                }

                if (!advanced)
                {
                    break;
                }
            }
        }

        return false;
    }

    private static void Push(ref Job[] jobs, ref int count, Job job)
    {
        if (count == jobs.Length)
        {
            var bigger = ArrayPool<Job>.Shared.Rent(jobs.Length * 2);
            Array.Copy(jobs, bigger, count);
            ArrayPool<Job>.Shared.Return(jobs);
            jobs = bigger;
        }

        jobs[count++] = job;
    }

    /// <summary>256-bit set of byte values.</summary>
    private readonly record struct ByteSet(ulong W0, ulong W1, ulong W2, ulong W3)
    {
        public bool Contains(byte b) => ((b >> 6) switch { 0 => W0, 1 => W1, 2 => W2, _ => W3 } & (1UL << (b & 63))) != 0;

        public static ByteSet Of(byte b) => Empty.With(b, b);

        public static ByteSet Empty => default;

        public ByteSet With(int from, int to)
        {
            var (w0, w1, w2, w3) = (W0, W1, W2, W3);
            for (var b = from; b <= to; b++)
            {
                var m = 1UL << (b & 63);
                switch (b >> 6)
                {
                    case 0: w0 |= m; break;
                    case 1: w1 |= m; break;
                    case 2: w2 |= m; break;
                    default: w3 |= m; break;
                }
            }

            return new ByteSet(w0, w1, w2, w3);
        }

        public ByteSet Union(ByteSet other) => new(W0 | other.W0, W1 | other.W1, W2 | other.W2, W3 | other.W3);

        public ByteSet Negate() => new(~W0, ~W1, ~W2, ~W3);

        /// <summary>The only member of a one-byte set.</summary>
        public bool IsSingle(out byte member)
        {
            member = 0;
            var count = 0;
            for (var b = 0; b < 256 && count < 2; b++)
            {
                if (Contains((byte)b))
                {
                    member = (byte)b;
                    count++;
                }
            }

            return count == 1;
        }
    }

    /// <summary>Parses the pattern into an AST and emits backtracker code for it.</summary>
    private sealed class Compiler(string pattern)
    {
        private static readonly ByteSet Space = ByteSet.Of((byte)'\t').With('\n', '\n').With('\f', '\f').With('\r', '\r').With(' ', ' ');
        private static readonly ByteSet Digit = ByteSet.Empty.With('0', '9');
        private static readonly ByteSet Word = ByteSet.Empty.With('0', '9').With('A', 'Z').With('a', 'z').With('_', '_');
        private static readonly ByteSet XDigit = ByteSet.Empty.With('0', '9').With('A', 'F').With('a', 'f');

        private readonly List<Inst> _code = [];
        private int _pos;
        private int _groups;

        private abstract record Node;

        private sealed record SetNode(ByteSet Set) : Node;

        private sealed record SeqNode(List<Node> Items) : Node;

        private sealed record GroupNode(int Index, Node Body) : Node;

        private sealed record RepeatNode(Node Body, char Kind) : Node;

        private sealed record AssertNode(Op Op) : Node;

        public GoRegex Compile()
        {
            var root = ParseSequence();
            if (_pos != pattern.Length)
            {
                throw new ArgumentException($"unsupported regexp syntax at {_pos}: {pattern}");
            }

            var anchored = root is SeqNode { Items: [AssertNode { Op: Op.BeginText }, ..] };
            var prefix = new List<byte>();
            if (!anchored && root is SeqNode seq)
            {
                foreach (var item in seq.Items)
                {
                    if (item is not SetNode set || !set.Set.IsSingle(out var member))
                    {
                        break;
                    }

                    prefix.Add(member);
                }
            }

            var required = new HashSet<byte>();
            CollectRequired(root, required);
            Emit(root);
            _code.Add(new Inst(Op.Match, 0, 0, default));
            return new GoRegex([.. _code], _groups, anchored, [.. prefix], [.. required]);
        }

        private static void CollectRequired(Node node, HashSet<byte> required)
        {
            switch (node)
            {
                case SetNode set when set.Set.IsSingle(out var member):
                    required.Add(member);
                    break;
                case SeqNode seq:
                    foreach (var item in seq.Items)
                    {
                        CollectRequired(item, required);
                    }

                    break;
                case GroupNode group:
                    CollectRequired(group.Body, required);
                    break;
                case RepeatNode { Kind: '+' } repeat:
                    CollectRequired(repeat.Body, required);
                    break;
            }
        }

        private SeqNode ParseSequence()
        {
            var items = new List<Node>();
            while (_pos < pattern.Length && pattern[_pos] != ')')
            {
                var c = pattern[_pos];
                Node atom;
                switch (c)
                {
                    case '|':
                        throw new ArgumentException("alternation is not supported: " + pattern);
                    case '(':
                        _pos++;
                        var capturing = true;
                        if (pattern.AsSpan(_pos).StartsWith("?:"))
                        {
                            capturing = false;
                            _pos += 2;
                        }

                        var index = capturing ? ++_groups : 0;
                        var body = ParseSequence();
                        Expect(')');
                        atom = capturing ? new GroupNode(index, body) : body;
                        break;
                    case '[':
                        atom = new SetNode(ParseClass());
                        break;
                    case '.':
                        _pos++;
                        atom = new SetNode(ByteSet.Of((byte)'\n').Negate());
                        break;
                    case '^':
                        _pos++;
                        atom = new AssertNode(Op.BeginText);
                        break;
                    case '$':
                        _pos++;
                        atom = new AssertNode(Op.EndText);
                        break;
                    case '\\':
                        atom = ParseEscape(inClass: false);
                        break;
                    default:
                        _pos++;
                        atom = new SetNode(Literal(c));
                        break;
                }

                if (_pos < pattern.Length && pattern[_pos] is '*' or '+' or '?')
                {
                    atom = new RepeatNode(atom, pattern[_pos]);
                    _pos++;
                }

                items.Add(atom);
            }

            return new SeqNode(items);
        }

        private static ByteSet Literal(char c) =>
            c < 128 ? ByteSet.Of((byte)c) : throw new ArgumentException("non-ASCII literal");

        private void Expect(char c)
        {
            if (_pos >= pattern.Length || pattern[_pos] != c)
            {
                throw new ArgumentException($"expected '{c}' at {_pos}: {pattern}");
            }

            _pos++;
        }

        private Node ParseEscape(bool inClass)
        {
            _pos++;
            var c = pattern[_pos++];
            switch (c)
            {
                case 's': return new SetNode(Space);
                case 'S': return new SetNode(Space.Negate());
                case 'd': return new SetNode(Digit);
                case 'D': return new SetNode(Digit.Negate());
                case 'w': return new SetNode(Word);
                case 'W': return new SetNode(Word.Negate());
                case 'A' when !inClass: return new AssertNode(Op.BeginText);
                case 'z' when !inClass: return new AssertNode(Op.EndText);
                default:
                    if (char.IsAsciiLetterOrDigit(c))
                    {
                        throw new ArgumentException($"unsupported escape \\{c}: {pattern}");
                    }

                    return new SetNode(Literal(c));
            }
        }

        private ByteSet ParseClass()
        {
            Expect('[');
            var negate = false;
            if (_pos < pattern.Length && pattern[_pos] == '^')
            {
                negate = true;
                _pos++;
            }

            var set = ByteSet.Empty;
            var first = true;
            while (_pos < pattern.Length && (pattern[_pos] != ']' || first))
            {
                first = false;
                if (pattern.AsSpan(_pos).StartsWith("[:"))
                {
                    var end = pattern.IndexOf(":]", _pos, StringComparison.Ordinal);
                    var name = pattern[(_pos + 2)..end];
                    set = set.Union(name switch
                    {
                        "xdigit" => XDigit,
                        "digit" => Digit,
                        _ => throw new ArgumentException("unsupported class " + name),
                    });
                    _pos = end + 2;
                    continue;
                }

                if (pattern[_pos] == '\\')
                {
                    var node = (SetNode)ParseEscape(inClass: true);
                    set = set.Union(node.Set);
                    continue;
                }

                var lo = pattern[_pos++];
                if (_pos + 1 < pattern.Length && pattern[_pos] == '-' && pattern[_pos + 1] != ']')
                {
                    var hi = pattern[_pos + 1];
                    _pos += 2;
                    set = set.With(lo, hi);
                }
                else
                {
                    set = set.Union(Literal(lo));
                }
            }

            Expect(']');
            return negate ? set.Negate() : set;
        }

        private void Emit(Node node)
        {
            switch (node)
            {
                case SetNode s:
                    _code.Add(new Inst(Op.Byte, _code.Count + 1, 0, s.Set));
                    break;
                case SeqNode seq:
                    foreach (var item in seq.Items)
                    {
                        Emit(item);
                    }

                    break;
                case GroupNode g:
                    _code.Add(new Inst(Op.Save, _code.Count + 1, 2 * g.Index, default));
                    Emit(g.Body);
                    _code.Add(new Inst(Op.Save, _code.Count + 1, (2 * g.Index) + 1, default));
                    break;
                case AssertNode a:
                    _code.Add(new Inst(a.Op, _code.Count + 1, 0, default));
                    break;
                case RepeatNode { Kind: '*' } r:
                    {
                        var split = _code.Count;
                        _code.Add(default);
                        Emit(r.Body);
                        _code.Add(new Inst(Op.Jump, split, 0, default));
                        _code[split] = new Inst(Op.Split, split + 1, _code.Count, default);
                        break;
                    }

                case RepeatNode { Kind: '+' } r:
                    {
                        var top = _code.Count;
                        Emit(r.Body);
                        _code.Add(new Inst(Op.Split, top, _code.Count + 1, default));
                        break;
                    }

                case RepeatNode r:
                    {
                        var split = _code.Count;
                        _code.Add(default);
                        Emit(r.Body);
                        _code[split] = new Inst(Op.Split, split + 1, _code.Count, default);
                        break;
                    }

                default:
                    throw new InvalidOperationException();
            }
        }
    }
}
