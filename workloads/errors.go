package workloads

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a scenario or manifest file: where it is (the file
// and, where known, the line), which object and which field, and what is
// wrong, in the API server's words where the server found it:
//
//	rs.yaml:5: ReplicaSet "rs - web": metadata.name: Invalid value: "rs - web": ...
type Error struct {
	File string `json:"file"`
	// Line is 1-based; 0 when the YAML library gives no position.
	Line int `json:"line,omitempty"`
	// Object is the manifest object (`ReplicaSet "frontend"`); empty for a
	// problem in the scenario itself, whose Field names the place (steps[2].at).
	Object string `json:"object,omitempty"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Object != "" {
		b.WriteString(e.Object + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Detail)
	return b.String()
}

// Errors is every problem one parse found, one per line of Error(): the files
// in the order they were read, each in line order.
type Errors []*Error

func (l Errors) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// maxErrors bounds what one parse reports (a file of garbage would otherwise
// give thousands).
const maxErrors = 50

// errorSink collects the errors of one parse.
type errorSink struct {
	list  Errors
	files map[string]int // file → order of its first error
}

func (s *errorSink) add(e *Error) {
	if s.files == nil {
		s.files = map[string]int{}
	}
	if _, ok := s.files[e.File]; !ok {
		s.files[e.File] = len(s.files)
	}
	s.list = append(s.list, e)
}

// err is the sorted list, or nil without errors.
func (s *errorSink) err() error {
	if len(s.list) == 0 {
		return nil
	}
	// Within a line the order is the text's: validation that walks a map
	// (labels, annotations) finds its errors in no fixed order.
	out := append(Errors(nil), s.list...)
	sort.SliceStable(out, func(i, j int) bool {
		fi, fj := s.files[out[i].File], s.files[out[j].File]
		if fi != fj {
			return fi < fj
		}
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Error() < out[j].Error()
	})
	uniq := out[:0]
	for i, e := range out {
		if i == 0 || e.Error() != out[i-1].Error() {
			uniq = append(uniq, e)
		}
	}
	out = uniq
	if len(out) > maxErrors {
		more := len(out) - maxErrors
		out = append(out[:maxErrors:maxErrors], &Error{File: out[maxErrors-1].File, Detail: fmt.Sprintf("and %d more errors", more)})
	}
	return out
}
