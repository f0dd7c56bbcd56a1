// Command legacydump parses each argument with Go's pprof profile package (the copy vendored in the Go
// toolchain, see gen.sh) and writes a JSON dump of the parsed Profile next to the expected files, so
// the C# legacy parser tests can compare field by field without Go at test time.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"legacydump/profile"
)

type valueType struct {
	Type string `json:"type"`
	Unit string `json:"unit"`
}

type sample struct {
	Values    []int64             `json:"values"`
	Locations []uint64            `json:"locations"`
	Labels    map[string][]string `json:"labels,omitempty"`
	NumLabels map[string][]int64  `json:"numLabels,omitempty"`
}

type line struct {
	Function uint64 `json:"function"`
	Line     int64  `json:"line"`
}

type location struct {
	ID       uint64 `json:"id"`
	Mapping  uint64 `json:"mapping"`
	Address  uint64 `json:"address"`
	Lines    []line `json:"lines"`
	IsFolded bool   `json:"isFolded"`
}

type function struct {
	ID         uint64 `json:"id"`
	Name       string `json:"name"`
	SystemName string `json:"systemName"`
	Filename   string `json:"filename"`
	StartLine  int64  `json:"startLine"`
}

type mapping struct {
	ID              uint64 `json:"id"`
	Start           uint64 `json:"start"`
	Limit           uint64 `json:"limit"`
	Offset          uint64 `json:"offset"`
	File            string `json:"file"`
	BuildID         string `json:"buildId"`
	HasFunctions    bool   `json:"hasFunctions"`
	HasFilenames    bool   `json:"hasFilenames"`
	HasLineNumbers  bool   `json:"hasLineNumbers"`
	HasInlineFrames bool   `json:"hasInlineFrames"`
}

type dump struct {
	Error             string      `json:"error,omitempty"`
	SampleTypes       []valueType `json:"sampleTypes"`
	DefaultSampleType string      `json:"defaultSampleType"`
	PeriodType        *valueType  `json:"periodType"`
	Period            int64       `json:"period"`
	DurationNanos     int64       `json:"durationNanos"`
	TimeNanos         int64       `json:"timeNanos"`
	DropFrames        string      `json:"dropFrames"`
	KeepFrames        string      `json:"keepFrames"`
	Comments          []string    `json:"comments"`
	Samples           []sample    `json:"samples"`
	Locations         []location  `json:"locations"`
	Functions         []function  `json:"functions"`
	Mappings          []mapping   `json:"mappings"`
}

func convert(p *profile.Profile) dump {
	d := dump{
		DefaultSampleType: p.DefaultSampleType,
		Period:            p.Period,
		DurationNanos:     p.DurationNanos,
		TimeNanos:         p.TimeNanos,
		DropFrames:        p.DropFrames,
		KeepFrames:        p.KeepFrames,
		Comments:          append([]string{}, p.Comments...),
		SampleTypes:       []valueType{},
		Samples:           []sample{},
		Locations:         []location{},
		Functions:         []function{},
		Mappings:          []mapping{},
	}
	for _, st := range p.SampleType {
		d.SampleTypes = append(d.SampleTypes, valueType{st.Type, st.Unit})
	}
	if p.PeriodType != nil {
		d.PeriodType = &valueType{p.PeriodType.Type, p.PeriodType.Unit}
	}
	for _, s := range p.Sample {
		ds := sample{Values: append([]int64{}, s.Value...), Locations: []uint64{}, Labels: s.Label, NumLabels: s.NumLabel}
		for _, l := range s.Location {
			ds.Locations = append(ds.Locations, l.ID)
		}
		d.Samples = append(d.Samples, ds)
	}
	for _, l := range p.Location {
		dl := location{ID: l.ID, Address: l.Address, Lines: []line{}, IsFolded: l.IsFolded}
		if l.Mapping != nil {
			dl.Mapping = l.Mapping.ID
		}
		for _, ln := range l.Line {
			var fid uint64
			if ln.Function != nil {
				fid = ln.Function.ID
			}
			dl.Lines = append(dl.Lines, line{fid, ln.Line})
		}
		d.Locations = append(d.Locations, dl)
	}
	for _, f := range p.Function {
		d.Functions = append(d.Functions, function{f.ID, f.Name, f.SystemName, f.Filename, f.StartLine})
	}
	for _, m := range p.Mapping {
		d.Mappings = append(d.Mappings, mapping{m.ID, m.Start, m.Limit, m.Offset, m.File, m.BuildID,
			m.HasFunctions, m.HasFilenames, m.HasLineNumbers, m.HasInlineFrames})
	}
	return d
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: legacydump OUTDIR FILE...")
		os.Exit(2)
	}
	out := os.Args[1]
	for _, f := range os.Args[2:] {
		data, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var d dump
		if p, err := profile.ParseData(data); err != nil {
			d = dump{Error: err.Error()}
		} else {
			d = convert(p)
		}
		b, err := json.MarshalIndent(d, "", " ")
		if err != nil {
			panic(err)
		}
		name := filepath.Join(out, filepath.Base(f)+".json")
		if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
			panic(err)
		}
	}
}
