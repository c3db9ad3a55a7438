package workloads

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The verbs that act on objects named the kubectl way (rs/frontend), or
// selected (pods with selector: tier=frontend), share how their target is
// read and resolved.

// kindRule restricts the kinds a verb's target may be, and says why.
type kindRule struct {
	kinds []apiserver.Kind
	say   string
}

// objectTarget reads the target of a verb acting on objects, and the
// selector and limit that go with it (when the verb takes a selector); only
// (when not nil) restricts its kind. ok is false when there is no target to
// read the verb's options for.
func (p *parser) objectTarget(st *Step, in stepInput, only *kindRule) (kind apiserver.Kind, name string, ok bool) {
	field, path, act := in.field(), in.path, in.act
	target, ok := p.str(act.val, field)
	if !ok {
		return "", "", false
	}
	if t := strings.TrimSpace(target); strings.ContainsAny(t, " \t") {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: one object (kind/name): give the rest as the step's options%s", target, optionList(st.Action)))
		return "", "", false
	}
	kind, name, err := ParseTarget(target)
	if err != nil {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: %v", target, err))
		return "", "", false
	}
	st.Target = target
	if only != nil && !slices.Contains(only.kinds, kind) {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: not a %s: %s", target, kindList(only.kinds), only.say))
	}
	se, hasSel := in.opts["selector"]
	switch {
	case !contains(in.verb.options(), "selector") && name == "":
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: no name: %s names one object (%s/NAME)", target, st.Action, strings.TrimSuffix(target, "/")))
	case hasSel && name != "":
		p.fail(se.key, path+".selector", fmt.Sprintf("Forbidden: a selector with a name (%s): give one or the other", target))
	case hasSel:
		if s, ok := p.str(se.val, path+".selector"); ok {
			if _, err := labels.Parse(s); err != nil {
				p.fail(se.val, path+".selector", fmt.Sprintf("Invalid value: %q: %v", s, err))
			} else if s == "" {
				p.fail(se.val, path+".selector", "Required value: a label selector, e.g. tier=frontend")
			}
			st.Selector = s
		}
	case name == "":
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: no name and no selector: name one object (%s/NAME) or select some (selector: key=value)", target, strings.TrimSuffix(target, "/")))
	}
	if e, ok := in.opts["limit"]; ok {
		if !hasSel {
			p.fail(e.key, path+".limit", "Forbidden: limit goes with a selector")
		} else if v, ok := p.intNode(e.val, path+".limit", 1, 1<<31-1); ok {
			st.Limit = int(v)
		}
	}
	return kind, name, true
}

// kindList is "a Deployment, DaemonSet or StatefulSet".
func kindList(kinds []apiserver.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// targets resolves the step's target to object names.
func (r *Runner) targets(s Step) (apiserver.Kind, []string, error) {
	kind, name, err := ParseTarget(s.Target)
	if err != nil {
		return "", nil, err
	}
	if name != "" {
		return kind, []string{name}, nil
	}
	sel := labels.Everything()
	if s.Selector != "" {
		if sel, err = labels.Parse(s.Selector); err != nil {
			return "", nil, fmt.Errorf("selector %q: %w", s.Selector, err)
		}
	}
	objs, _, err := r.ctx.Client().List(kind, metav1.NamespaceDefault, sel)
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName()) // List is in name order
	}
	if s.Limit > 0 && len(names) > s.Limit {
		names = names[:s.Limit]
	}
	return kind, names, nil
}

// eachTarget calls fn for each object the step names or selects, in name
// order, stopping at the first error.
func (r *Runner) eachTarget(s Step, fn func(kind apiserver.Kind, ns, name string) error) error {
	kind, names, err := r.targets(s)
	if err != nil {
		return err
	}
	ns := metav1.NamespaceDefault
	if !apiserver.Namespaced(kind) {
		ns = ""
	}
	for _, name := range names {
		if err := fn(kind, ns, name); err != nil {
			return err
		}
	}
	return nil
}
