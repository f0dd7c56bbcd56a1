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
    /// <param name="timeNanos">The time_nanos the decoded profile would have.</param>
    /// <returns>True when the decoder would accept <paramref name="data"/> without renumbering ids.</returns>
    public static bool TryScan(ReadOnlySpan<byte> data, bool requireSamples, out long timeNanos)
    {
        timeNanos = 0;
        if (data.IsEmpty)
        {
            return false;
        }

        try
        {
            var scan = new Scan();
            scan.Run(data);
            if (!scan.Accepted(requireSamples))
            {
                return false;
            }

            timeNanos = scan.TimeNanos;
            return true;
        }
        catch (ProtoWireException)
        {
            return false;
        }
    }

    private struct Scan
    {
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
                        ValueType(reader.ReadBytes());
                        _sampleTypeCount++;
                        break;
                    case 2:
                        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                        Sample(reader.ReadBytes());
                        _sampleCount++;
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
                        ValueType(reader.ReadBytes());
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

        private void ValueType(ReadOnlySpan<byte> data)
        {
            var reader = new ProtoReader(data);
            while (!reader.End)
            {
                var field = reader.ReadTag(out var wireType);
                if (field is 1 or 2)
                {
                    StringIndex(reader.ReadVarint(wireType));
                }
                else
                {
                    reader.Skip(wireType);
                }
            }
        }

        private void Sample(ReadOnlySpan<byte> data)
        {
            var values = 0;
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
                            }
                        }
                        else
                        {
                            LocationRef(reader.ReadVarint(wireType));
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
