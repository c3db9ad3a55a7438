package workloads

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	yaml "go.yaml.in/yaml/v3"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// annotateVerb is kubectl annotate (Set; Remove are the key- arguments).
type annotateVerb struct{ metaVerb }

// labelVerb is kubectl label.
type labelVerb struct{ metaVerb }

func (annotateVerb) name() Action { return Annotate }
func (labelVerb) name() Action    { return Label }

func (v annotateVerb) parse(p *parser, st *Step, in stepInput) { v.read(p, st, in, false) }
func (v labelVerb) parse(p *parser, st *Step, in stepInput)    { v.read(p, st, in, true) }

func (annotateVerb) run(r *Runner, s Step) error { return r.setMeta(s, "annotations") }
func (labelVerb) run(r *Runner, s Step) error    { return r.setMeta(s, "labels") }

// metaVerb is what annotate and label share: they set and remove keys of a
// map in the object's metadata.
type metaVerb struct{}

func (metaVerb) options() []string { return []string{"set", "selector", "limit", "overwrite"} }

func (metaVerb) read(p *parser, st *Step, in stepInput, isLabel bool) {
	if _, _, ok := p.objectTarget(st, in, nil); !ok {
		return
	}
	e, ok := in.opts["set"]
	if !ok {
		p.fail(in.act.key, in.path+".set", "Required value: the keys to set (set: {key: value}) or remove (set: [key-])")
		return
	}
	st.Set, st.Remove = p.setArgs(e.val, in.path+".set", isLabel)
	if o, ok := in.opts["overwrite"]; ok {
		st.Overwrite, _ = p.boolNode(o.val, in.path+".overwrite")
	}
}

func (metaVerb) describe(b *strings.Builder, s Step) {
	for _, k := range slices.Sorted(maps.Keys(s.Set)) {
		fmt.Fprintf(b, " %s=%s", k, s.Set[k])
	}
	for _, k := range s.Remove {
		fmt.Fprintf(b, " %s-", k)
	}
}

// setMeta sends the merge patch of kubectl annotate or label (field is
// annotations or labels).
func (r *Runner) setMeta(s Step, field string) error {
	c := r.ctx.Client()
	return r.eachTarget(s, func(kind apiserver.Kind, ns, name string) error {
		if !s.Overwrite {
			// kubectl refuses to change a value without --overwrite.
			obj, err := c.Get(kind, ns, name)
			if err != nil {
				return err
			}
			have := obj.GetAnnotations()
			if field == "labels" {
				have = obj.GetLabels()
			}
			for _, k := range slices.Sorted(maps.Keys(s.Set)) {
				if old, ok := have[k]; ok && old != s.Set[k] {
					return fmt.Errorf("'%s' already has a value (%s), and --overwrite is false", k, old)
				}
			}
		}
		values := map[string]any{}
		for k, v := range s.Set {
			values[k] = v
		}
		for _, k := range s.Remove {
			values[k] = nil
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{field: values}})
		if err != nil {
			return err
		}
		_, err = c.Patch(kind, ns, name, types.MergePatchType, patch, "")
		return err
	})
}

// setArgs reads what annotate and label set and remove: a mapping
// {key: value} (a key written "key-" with no value removes it), a list of
// kubectl arguments [key=value, key-], or those arguments in one string.
func (p *parser) setArgs(n *yaml.Node, path string, isLabel bool) (map[string]string, []string) {
	n = content(n)
	before := len(p.errs.list)
	set := map[string]string{}
	var remove []string
	arg := func(node *yaml.Node, a string) {
		if k, v, ok := strings.Cut(a, "="); ok {
			set[k] = v
		} else if k, ok := strings.CutSuffix(a, "-"); ok && k != "" {
			remove = append(remove, k)
		} else {
			p.fail(node, path, fmt.Sprintf("Invalid value: %q: expected key=value, or key- to remove the key", a))
		}
	}
	entry := func(key, v *yaml.Node) {
		k := key.Value
		switch {
		case strings.HasSuffix(k, "-") && (v == nil || isNull(v) || v.Value == ""):
			remove = append(remove, strings.TrimSuffix(k, "-"))
		case v == nil || isNull(v) || v.Kind != yaml.ScalarNode:
			p.fail(key, path+"["+k+"]", "Required value: a value (or write the key as "+k+"- to remove it)")
		default:
			set[k] = v.Value
		}
	}
	p.keyValues(n, path, "key=value or key-", "{key: value}, or a list of key=value and key-", entry, arg)
	if len(set) == 0 && len(remove) == 0 {
		if len(p.errs.list) == before {
			p.fail(n, path, "Required value: nothing to set or remove")
		}
		return nil, nil
	}
	sort.Strings(remove)
	p.validateSetArgs(n, path, isLabel, set, remove)
	if len(set) == 0 {
		set = nil
	}
	return set, remove
}

// validateSetArgs validates the keys and values as the API server would.
func (p *parser) validateSetArgs(n *yaml.Node, path string, isLabel bool, set map[string]string, remove []string) {
	var errs field.ErrorList
	fp := field.NewPath(path)
	for _, k := range slices.Sorted(maps.Keys(set)) { // one at a time: the validators walk maps
		one := map[string]string{k: set[k]}
		if isLabel {
			errs = append(errs, metav1validation.ValidateLabels(one, fp)...)
		} else {
			errs = append(errs, apivalidation.ValidateAnnotations(one, fp)...)
		}
	}
	for _, k := range remove {
		if _, both := set[k]; both {
			errs = append(errs, field.Invalid(fp, k, "set and removed in one step"))
		}
		errs = append(errs, metav1validation.ValidateLabelName(k, fp)...)
	}
	for _, e := range errs {
		p.fail(n, e.Field, e.ErrorBody())
	}
}
