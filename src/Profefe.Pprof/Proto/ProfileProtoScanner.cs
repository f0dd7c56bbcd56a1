namespace Profefe.Pprof.Proto;

/// <summary>
/// Proves, in one walk and without building the model, that <see cref="ProfileProtoReader"/> plus the checks
/// of <see cref="ProfileDecoder"/> would accept a raw profile.proto as it is: wire format, string indices,
/// ids 1..N in table order (so nothing needs renumbering), every referenced location and function present,
/// one value per sample type, samples when required.
/// </summary>
/// <remarks>
/// The scan only ever answers "accepted as is" or "not sure": anything unusual (errors, ids that are not
/// 1..N, a string table that does not start with "") is left to the full decoder, which gives the exact
/// message or the renumbered profile. So the scan may be stricter than the decoder, never more lenient;
/// the tests run both over the corpus and its mutants to hold it to that.
/// </remarks>
internal static class ProfileProtoScanner
{
    /// <param name="validation">What the decoded profile would tell: its time_nanos, sample count and sample types.</param>
    /// <returns>True when the decoder would accept <paramref name="data"/> without renumbering ids.</returns>
    /// <exception cref="ProfileFormatException">
    /// the profile is over <see cref="ProfileDecoderOptions.MaxSamples"/> or <see cref="ProfileDecoderOptions.MaxStackDepth"/>
    /// (checked here so that an oversized profile is refused before any decoder builds it).
    /// </exception>
    public static bool TryScan(ReadOnlySpan<byte> data, ProfileDecoderOptions options, out ProfileValidation validation)
    {
        validation = default;
        if (data.IsEmpty)
        {
            return false;
        }

        try
        {
            var scan = new Scan(options);
            scan.Run(data);
            if (!scan.Accepted(options.RequireSamples))
            {
                return false;
            }

            var (names, layout) = SampleTypes(data, scan.SampleTypeIndices, scan.PeriodTypeIndices);
            validation = new ProfileValidation(scan.TimeNanos, null, scan.SampleCount, names) { Layout = layout };
            return true;
        }
        catch (ProtoWireException)
        {
            return false;
        }
    }

    // A second walk over the top level only: the string table may come before or after the sample types.
    private static (string[] Names, string Layout) SampleTypes(ReadOnlySpan<byte> data, List<(ulong Type, ulong Unit)> indices, (ulong Type, ulong Unit)? period)
    {
        var count = indices.Count + (period is null ? 0 : 1);
        var strings = new string[count * 2];
        Array.Fill(strings, "");
        var reader = new ProtoReader(data);
        ulong index = 0;
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            if (field != 6)
            {
                reader.Skip(wireType);
                continue;
            }

            var text = reader.ReadBytes();
            for (var i = 0; i < count; i++)
            {
                var (type, unit) = i < indices.Count ? indices[i] : period!.Value;
                if (type == index)
                {
                    strings[2 * i] = System.Text.Encoding.UTF8.GetString(text);
                }

                if (unit == index)
                {
                    strings[(2 * i) + 1] = System.Text.Encoding.UTF8.GetString(text);
                }
            }

            index++;
        }

        var names = new string[indices.Count];
        var sampleTypes = new SampleType[indices.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = strings[2 * i];
            sampleTypes[i] = new SampleType(strings[2 * i], strings[(2 * i) + 1]);
        }

        var periodType = period is null ? null : new SampleType(strings[^2], strings[^1]);
        return (names, SampleLayout.Describe(sampleTypes, periodType));
    }

    private struct Scan(ProfileDecoderOptions options)
    {
        private readonly int _maxSamples = options.MaxSamples;
        private readonly int _maxStackDepth = options.MaxStackDepth;
        private int _stringCount;
        private bool _firstStringEmpty;

        // Indices compared as unsigned, so a negative index counts as out of range, as in the decoder.
        private ulong _maxStringIndex;

        private int _sampleTypeCount;
        private int _sampleCount;
        private int _mappingCount;
        private int _functionCount;
        private int _locationCount;
        private bool _idsInOrder;

        private int _minValues;
        private int _maxValues;
        private ulong _minLocationRef;
        private ulong _maxLocationRef;
        private ulong _minFunctionRef;
        private ulong _maxFunctionRef;

        public long TimeNanos { get; private set; }

        public readonly int SampleCount => _sampleCount;

        /// <summary>The string indices of each sample type's type name and unit, in order.</summary>
        public List<(ulong Type, ulong Unit)> SampleTypeIndices { get; } = [];

        /// <summary>The string indices of the period type's name and unit, when the profile has one.</summary>
        public (ulong Type, ulong Unit)? PeriodTypeIndices { get; private set; }

        public void Run(ReadOnlySpan<byte> data)
        {
            _idsInOrder = true;
            _minValues = int.MaxValue;
            _maxValues = -1;
            _minLocationRef = ulong.MaxValue;
            _minFunctionRef = ulong.MaxValue;

            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                switch (field)
                {
                    case 1:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        SampleTypeIndices.Add(ValueType(reader.ReadBytes()));
                        _sampleTypeCount++;
                        break;
                    case 2:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        Sample(reader.ReadBytes());
                        _sampleCount++;
                        ProfileDecoder.CheckSampleCount(_sampleCount, options);
                        break;
                    case 3:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        Mapping(reader.ReadBytes());
                        break;
                    case 4:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        Location(reader.ReadBytes());
                        break;
                    case 5:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        Function(reader.ReadBytes());
                        break;
                    case 6:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        var text = reader.ReadBytes();
                        if (_stringCount == 0)
                        {
                            _firstStringEmpty = text.IsEmpty;
                        }

                        _stringCount++;
                        break;
                    case 7 or 8 or 14 or 15:
                        // drop_frames, keep_frames, default_sample_type, doc_url: string indices.
                        StringIndex(reader.ReadVarint(wireType));
                        break;
                    case 9:
                        // As the decoder: a second non-zero time_nanos means two profiles back to back.
                        var time = (long)reader.ReadVarint(wireType);
                        if (TimeNanos != 0)
                        {
                            throw new ProtoWireException(ProtoFailure.Concatenated, "concatenated profiles detected");
                        }

                        TimeNanos = time;
                        break;
                    case 10 or 12:
                        reader.SkipVarint(wireType);
                        break;
                    case 11:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        PeriodTypeIndices = ValueType(reader.ReadBytes());
                        break;
                    case 13:
                        if (wireType == WireType.LengthDelimited)
                        {
                            var packed = new ProtoReader(reader.ReadBytes());
                            while (!packed.End)
                            {
                                StringIndex(packed.ReadVarint());
                            }
                        }
                        else
                        {
                            StringIndex(reader.ReadVarint(wireType));
                        }

                        break;
                    default:
                        reader.Skip(wireType);
                        break;
                }
            }
        }

        public readonly bool Accepted(bool requireSamples)
        {
            if (_stringCount == 0 || !_firstStringEmpty || _maxStringIndex >= (ulong)_stringCount || !_idsInOrder)
            {
                return false;
            }

            // References resolve when they fall inside 1..N (the ids are exactly that, in order).
            if (_minLocationRef != ulong.MaxValue && (_minLocationRef == 0 || _maxLocationRef > (ulong)_locationCount))
            {
                return false;
            }

            if (_minFunctionRef != ulong.MaxValue && (_minFunctionRef == 0 || _maxFunctionRef > (ulong)_functionCount))
            {
                return false;
            }

            if (_sampleCount == 0)
            {
                return !requireSamples;
            }

            return _sampleTypeCount != 0 && _minValues == _sampleTypeCount && _maxValues == _sampleTypeCount;
        }

        private void StringIndex(ulong index)
        {
            if (index > _maxStringIndex)
            {
                _maxStringIndex = index;
            }
        }

        /// <returns>The string index of the type name.</returns>
        private (ulong Type, ulong Unit) ValueType(ReadOnlySpan<byte> data)
        {
            ulong type = 0;
            ulong unit = 0;
            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                if (field is 1 or 2)
                {
                    var index = reader.ReadVarint(wireType);
                    StringIndex(index);
                    if (field == 1)
                    {
                        type = index;
                    }
                    else
                    {
                        unit = index;
                    }
                }
                else
                {
                    reader.Skip(wireType);
                }
            }

            return (type, unit);
        }

        private void Sample(ReadOnlySpan<byte> data)
        {
            var values = 0;
            var depth = 0;
            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                switch (field)
                {
                    case 1:
                        if (wireType == WireType.LengthDelimited)
                        {
                            var packed = new ProtoReader(reader.ReadBytes());
                            while (!packed.End)
                            {
                                LocationRef(packed.ReadVarint());
                                depth++;
                            }
                        }
                        else
                        {
                            LocationRef(reader.ReadVarint(wireType));
                            depth++;
                        }

                        break;
                    case 2:
                        if (wireType == WireType.LengthDelimited)
                        {
                            var packed = new ProtoReader(reader.ReadBytes());
                            while (!packed.End)
                            {
                                packed.SkipVarint();
                                values++;
                            }
                        }
                        else
                        {
                            reader.SkipVarint(wireType);
                            values++;
                        }

                        break;
                    case 3:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        Label(reader.ReadBytes());
                        break;
                    default:
                        reader.Skip(wireType);
                        break;
                }
            }

            if (depth > _maxStackDepth)
            {
                ProfileDecoder.CheckStackDepth(depth, options);
            }

            _minValues = Math.Min(_minValues, values);
            _maxValues = Math.Max(_maxValues, values);
        }

        private void LocationRef(ulong id)
        {
            _minLocationRef = Math.Min(_minLocationRef, id);
            _maxLocationRef = Math.Max(_maxLocationRef, id);
        }

        private void Label(ReadOnlySpan<byte> data)
        {
            // Stricter than the decoder, which looks at num_unit only for numeric labels: every index counts.
            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                switch (field)
                {
                    case 1 or 2 or 4:
                        StringIndex(reader.ReadVarint(wireType));
                        break;
                    case 3:
                        reader.SkipVarint(wireType);
                        break;
                    default:
                        reader.Skip(wireType);
                        break;
                }
            }
        }

        private void Mapping(ReadOnlySpan<byte> data)
        {
            ulong id = 0;
            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                switch (field)
                {
                    case 1:
                        id = reader.ReadVarint(wireType);
                        break;
                    case 5 or 6:
                        StringIndex(reader.ReadVarint(wireType));
                        break;
                    case >= 2 and <= 10:
                        reader.SkipVarint(wireType);
                        break;
                    default:
                        reader.Skip(wireType);
                        break;
                }
            }

            _mappingCount++;
            _idsInOrder &= id == (ulong)_mappingCount;
        }

        private void Function(ReadOnlySpan<byte> data)
        {
            ulong id = 0;
            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                switch (field)
                {
                    case 1:
                        id = reader.ReadVarint(wireType);
                        break;
                    case 2 or 3 or 4:
                        StringIndex(reader.ReadVarint(wireType));
                        break;
                    case 5:
                        reader.SkipVarint(wireType);
                        break;
                    default:
                        reader.Skip(wireType);
                        break;
                }
            }

            _functionCount++;
            _idsInOrder &= id == (ulong)_functionCount;
        }

        private void Location(ReadOnlySpan<byte> data)
        {
            // mapping_id needs no check: with unique ids an unknown one leaves the location unmapped, as in the decoder.
            ulong id = 0;
            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                switch (field)
                {
                    case 1:
                        id = reader.ReadVarint(wireType);
                        break;
                    case 2 or 3 or 5:
                        reader.SkipVarint(wireType);
                        break;
                    case 4:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        Line(reader.ReadBytes());
                        break;
                    default:
                        reader.Skip(wireType);
                        break;
                }
            }

            _locationCount++;
            _idsInOrder &= id == (ulong)_locationCount;
        }

        private void Line(ReadOnlySpan<byte> data)
        {
            ulong functionId = 0;
            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                switch (field)
                {
                    case 1:
                        functionId = reader.ReadVarint(wireType);
                        break;
                    case 2 or 3:
                        reader.SkipVarint(wireType);
                        break;
                    default:
                        reader.Skip(wireType);
                        break;
                }
            }

            _minFunctionRef = Math.Min(_minFunctionRef, functionId);
            _maxFunctionRef = Math.Max(_maxFunctionRef, functionId);
        }
    }
}
