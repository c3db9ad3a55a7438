package workloads

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	yaml "go.yaml.in/yaml/v3"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	durationType = reflect.TypeOf(time.Duration(0))
	distType     = reflect.TypeOf(apiserver.Dist{})
)

// clusterConfig reads the cluster section as cluster.ParseConfig reads a
// Config (strictly, then defaulted and validated by the same Defaults and
// Validate), with these differences for people writing it by hand:
// durations are written "30s" or "5ms"; a delay distribution may be one
// duration (fixed) instead of {min: 1s, max: 3s}; api (the API server's
// timing) overrides the default API timing field by field rather than
// replacing it; and every error is at its line.
func (p *parser) clusterConfig(n *yaml.Node) (cluster.Config, bool) {
	n = content(n)
	if n == nil || isNull(n) {
		return cluster.DefaultConfig(), true
	}
	before := len(p.errs.list)
	v := p.jsonValue(n, reflect.TypeOf(cluster.Config{}), "cluster", 0)
	if len(p.errs.list) > before {
		return cluster.Config{}, false
	}
	data, err := json.Marshal(v)
	if err != nil {
		p.fail(n, "cluster", err.Error())
		return cluster.Config{}, false
	}
	api := apiserver.DefaultConfig()
	cfg := cluster.Config{API: &api}
	if err := json.Unmarshal(data, &cfg); err != nil {
		p.fail(n, "cluster", err.Error())
		return cluster.Config{}, false
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		var agg utilerrors.Aggregate
		if !errors.As(err, &agg) {
			p.fail(n, "cluster", err.Error())
			return cluster.Config{}, false
		}
		for _, e := range agg.Errors() {
			var fe *field.Error
			if errors.As(e, &fe) {
				p.errs.add(&Error{File: p.file, Line: lineOf(n, fe.Field), Field: "cluster." + fe.Field, Detail: fe.ErrorBody()})
			} else {
				p.fail(n, "cluster", e.Error())
			}
		}
		return cluster.Config{}, false
	}
	return cfg, true
}

// jsonValue walks the node along the Go type t and gives the JSON value the
// type decodes from, reporting unknown fields and values of the wrong type at
// their lines.
func (p *parser) jsonValue(n *yaml.Node, t reflect.Type, path string, depth int) any {
	n = content(n)
	if n == nil || isNull(n) {
		return nil
	}
	if p.visits++; depth > maxDepth || p.visits > maxVisits {
		if !p.tooDeep {
			p.fail(n, path, "nested too deeply (or aliases expand too far)")
		}
		p.tooDeep = true
		return nil
	}
	switch {
	case t == durationType:
		if d, ok := p.durationNode(n, path); ok {
			return int64(d)
		}
		return nil
	case t == distType && n.Kind == yaml.ScalarNode:
		if d, ok := p.durationNode(n, path); ok {
			return map[string]any{"min": int64(d), "max": int64(d)}
		}
		return nil
	case t.Kind() == reflect.Pointer:
		return p.jsonValue(n, t.Elem(), path, depth)
	case reflect.PointerTo(t).Implements(jsonUnmarshalerType):
		if n.Kind != yaml.ScalarNode {
			p.fail(n, path, "Invalid value: expected a single value")
			return nil
		}
		quoted, _ := json.Marshal(n.Value)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(quoted); err != nil {
			p.fail(n, path, fmt.Sprintf("Invalid value: %q: %v", n.Value, err))
			return nil
		}
		return n.Value
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.fail(n, path, "Invalid value: expected a mapping of fields")
			return nil
		}
		es, dups := entries(n)
		p.reportDups(dups, path)
		fields := jsonFields(t)
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.name
		}
		out := map[string]any{}
		for _, e := range es {
			key := e.key.Value
			f, ok := findField(t, key)
			if !ok {
				p.unknownField(e.key, path, key, names)
				continue
			}
			if v := p.jsonValue(e.val, f.typ, joinPath(path, key), depth+1); v != nil {
				out[f.name] = v
			}
		}
		return out
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.fail(n, path, "Invalid value: expected a mapping")
			return nil
		}
		es, dups := entries(n)
		p.reportDups(dups, path)
		out := map[string]any{}
		for _, e := range es {
			if v := p.jsonValue(e.val, t.Elem(), path+"["+e.key.Value+"]", depth+1); v != nil {
				out[e.key.Value] = v
			}
		}
		return out
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.fail(n, path, "Invalid value: expected a list")
			return nil
		}
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			out = append(out, p.jsonValue(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1))
		}
		return out
	}
	if n.Kind != yaml.ScalarNode {
		p.fail(n, path, "Invalid value: expected a single value")
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		return n.Value
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			p.fail(n, path, fmt.Sprintf("Invalid value: %q: expected true or false", n.Value))
			return nil
		}
		return b
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, t.Bits())
		if err != nil {
			p.fail(n, path, fmt.Sprintf("Invalid value: %q: expected an integer", n.Value))
			return nil
		}
		return i
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, err := strconv.ParseUint(n.Value, 10, t.Bits())
		if err != nil {
			p.fail(n, path, fmt.Sprintf("Invalid value: %q: expected a non-negative integer", n.Value))
			return nil
		}
		return i
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			p.fail(n, path, fmt.Sprintf("Invalid value: %q: expected a number", n.Value))
			return nil
		}
		return f
	}
	p.fail(n, path, "cannot be set in a scenario file")
	return nil
}
