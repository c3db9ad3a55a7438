package workloads

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden (go test ./workloads -update)")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: run go test ./workloads -update")
	assert.Equal(t, string(want), got, "differs from %s (if the change is intended: go test ./workloads -update)", path)
}

// glob lists testdata files in name order.
func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files, pattern)
	sort.Strings(files)
	return files
}

// renderScenario is a parsed scenario as stable, readable JSON: durations as
// text, map keys sorted, objects as the JSON the API server would be sent.
func renderScenario(sc *Scenario) string {
	type stepView struct {
		String          string            `json:"string"`
		At              string            `json:"at"`
		After           string            `json:"after,omitempty"`
		Timeout         string            `json:"timeout,omitempty"`
		Action          Action            `json:"action"`
		Target          string            `json:"target,omitempty"`
		Selector        string            `json:"selector,omitempty"`
		Limit           int               `json:"limit,omitempty"`
		Replicas        int32             `json:"replicas,omitempty"`
		CurrentReplicas *int32            `json:"currentReplicas,omitempty"`
		ResourceVersion string            `json:"resourceVersion,omitempty"`
		Set             map[string]string `json:"set,omitempty"`
		Remove          []string          `json:"remove,omitempty"`
		Cascade         string            `json:"cascade,omitempty"`
		GracePeriod     *int64            `json:"gracePeriod,omitempty"`
		ExpectError     string            `json:"expectError,omitempty"`
		ExpectErrorMsg  string            `json:"expectErrorMessage,omitempty"`
		Objects         []any             `json:"objects,omitempty"`
		Images          map[string]string `json:"images,omitempty"`
		ToRevision      int64             `json:"toRevision,omitempty"`
		Image           string            `json:"image,omitempty"`
		Container       string            `json:"container,omitempty"`
		UpdatePeriod    string            `json:"updatePeriod,omitempty"`
		PollInterval    string            `json:"pollInterval,omitempty"`
		UpdateTimeout   string            `json:"updateTimeout,omitempty"`
		Node            any               `json:"node,omitempty"`
		Unsupported     string            `json:"unsupported,omitempty"`
	}
	view := map[string]any{
		"name": sc.Name, "summary": sc.Summary, "source": filepath.ToSlash(sc.Source),
		"cluster": describe(reflect.ValueOf(sc.Cluster)), "objects": objectsJSON(sc.Objects),
		"expect":   map[string]string{"convergeWithin": sc.Expect.ConvergeWithin.String(), "stableFor": sc.Expect.StableFor.String()},
		"lastStep": sc.LastStep().String(),
	}
	// Only scenarios that use them show heavy and load.
	if sc.Heavy {
		view["heavy"] = true
	}
	if len(sc.Load) > 0 {
		load := []map[string]any{}
		for _, lp := range sc.Load {
			load = append(load, map[string]any{"at": lp.At.String(), "target": lp.Target, "cpu": lp.CPU})
		}
		view["load"] = load
	}
	steps := []stepView{}
	for _, s := range sc.Steps {
		v := stepView{String: s.String(), At: s.At.String(), Action: s.Action, Target: s.Target, Selector: s.Selector,
			Limit: s.Limit, Replicas: s.Replicas, CurrentReplicas: s.CurrentReplicas, ResourceVersion: s.ResourceVersion,
			Set: s.Set, Remove: s.Remove, Cascade: s.Cascade, GracePeriod: s.GracePeriod, Objects: objectsJSON(s.Objects),
			ExpectError: string(s.ExpectError), ExpectErrorMsg: s.ExpectErrorMessage,
			Images: s.Images, ToRevision: s.ToRevision, Image: s.Image, Container: s.Container}
		if s.Action == RollingUpdate {
			v.UpdatePeriod, v.PollInterval, v.UpdateTimeout = s.UpdatePeriod.String(), s.PollInterval.String(), s.UpdateTimeout.String()
		}
		if s.Node != nil {
			v.Node = describe(reflect.ValueOf(*s.Node))
		}
		if err := s.Unsupported(); err != nil {
			v.Unsupported = err.Error()
		}
		if s.After != nil {
			v.After, v.Timeout = s.After.String(), s.Timeout.String()
		}
		steps = append(steps, v)
	}
	view["steps"] = steps
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(view); err != nil {
		panic(err)
	}
	return b.String()
}

func objectsJSON(objs []apiserver.Object) []any {
	out := []any{}
	for _, o := range objs {
		data, err := json.Marshal(o)
		if err != nil {
			panic(err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			panic(err)
		}
		out = append(out, v)
	}
	return out
}

var jsonMarshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()

// describe is v as JSON would have it, but with durations as text.
func describe(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	if v.Type().Implements(jsonMarshalerType) || (v.CanAddr() && v.Addr().Type().Implements(jsonMarshalerType)) {
		data, _ := json.Marshal(v.Interface())
		return json.RawMessage(data)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return describe(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		for _, f := range jsonFields(v.Type()) {
			out[f.name] = describe(fieldByJSON(v, f.name))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[k.String()] = describe(v.MapIndex(k))
		}
		return out
	case reflect.Slice:
		out := []any{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, describe(v.Index(i)))
		}
		return out
	}
	return v.Interface()
}

func fieldByJSON(v reflect.Value, name string) reflect.Value {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := cutComma(f.Tag.Get("json")); tag == name || (tag == "" && f.Name == name) {
			return v.Field(i)
		}
	}
	panic("no field " + name)
}

func cutComma(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
