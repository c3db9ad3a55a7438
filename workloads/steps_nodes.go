package workloads

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The node verbs: what kubectl does to a node (cordon, uncordon, drain),
// and what happens to the machine (lost, back, added, deleted). Each names a
// node of the cluster (node-2 or node/node-2), but add-node, which names or
// describes the new one.

type (
	loseNodeVerb   struct{ noOptions } // the node's kubelet and heartbeats stop
	returnNodeVerb struct{ noOptions } // the lost node comes back
	cordonVerb     struct{ noOptions } // kubectl cordon
	uncordonVerb   struct{ noOptions } // kubectl uncordon
	deleteNodeVerb struct{ noOptions } // the machine goes: Node deleted, kubelet stopped for good
	addNodeVerb    struct{}            // a new machine joins: its kubelet registers the Node
	// drainVerb is kubectl drain --ignore-daemonsets --force: cordon, then
	// delete the node's pods.
	drainVerb struct{}
)

func (loseNodeVerb) name() Action   { return LoseNode }
func (returnNodeVerb) name() Action { return ReturnNode }
func (cordonVerb) name() Action     { return Cordon }
func (uncordonVerb) name() Action   { return Uncordon }
func (deleteNodeVerb) name() Action { return DeleteNode }
func (addNodeVerb) name() Action    { return AddNode }
func (drainVerb) name() Action      { return Drain }

func (loseNodeVerb) parse(p *parser, st *Step, in stepInput)   { p.nodeTarget(st, in) }
func (returnNodeVerb) parse(p *parser, st *Step, in stepInput) { p.nodeTarget(st, in) }
func (cordonVerb) parse(p *parser, st *Step, in stepInput)     { p.nodeTarget(st, in) }
func (uncordonVerb) parse(p *parser, st *Step, in stepInput)   { p.nodeTarget(st, in) }

func (deleteNodeVerb) parse(p *parser, st *Step, in stepInput) {
	if p.nodeTarget(st, in) && st.Target != "" && in.clusterOK {
		p.removeNode(strings.TrimPrefix(st.Target, "node/")) // later steps cannot name it
	}
}

func (drainVerb) options() []string { return []string{"gracePeriod"} }

func (drainVerb) parse(p *parser, st *Step, in stepInput) {
	if p.nodeTarget(st, in) {
		p.gracePeriod(st, in)
	}
}

func (drainVerb) describe(b *strings.Builder, s Step) {
	if s.GracePeriod != nil {
		fmt.Fprintf(b, " --grace-period=%d", *s.GracePeriod)
	}
}

func (addNodeVerb) options() []string { return nil }

func (addNodeVerb) parse(p *parser, st *Step, in stepInput) {
	p.addNode(st, in.act.val, in.field(), in.clusterOK)
}

func (addNodeVerb) describe(b *strings.Builder, s Step) {
	n := s.Node
	if n == nil {
		return
	}
	if n.Zone != "" {
		b.WriteString(" --zone=" + n.Zone)
	}
	if len(n.Labels) > 0 {
		var kvs []string
		for _, k := range slices.Sorted(maps.Keys(n.Labels)) {
			kvs = append(kvs, k+"="+n.Labels[k])
		}
		b.WriteString(" --labels=" + strings.Join(kvs, ","))
	}
	if n.Unschedulable {
		b.WriteString(" --unschedulable")
	}
}

func (loseNodeVerb) run(r *Runner, s Step) error {
	return r.onNode(s, r.cluster.LoseNode)
}

func (returnNodeVerb) run(r *Runner, s Step) error {
	return r.onNode(s, r.cluster.ReturnNode)
}

func (deleteNodeVerb) run(r *Runner, s Step) error {
	return r.onNode(s, r.cluster.DeleteNode)
}

func (addNodeVerb) run(r *Runner, s Step) error {
	if s.Node == nil {
		return fmt.Errorf("add-node: no node given")
	}
	return r.cluster.AddNode(*s.Node)
}

func (cordonVerb) run(r *Runner, s Step) error {
	return r.patchNode(s, `{"spec":{"unschedulable":true}}`)
}

func (uncordonVerb) run(r *Runner, s Step) error {
	return r.patchNode(s, `{"spec":{"unschedulable":null}}`)
}

// run deletes rather than evicts (the API server serves no eviction
// subresource, and there are no PodDisruptionBudgets): it cordons the node,
// then deletes every pod bound to it but those a DaemonSet controls and those
// already terminating, each with its own grace period (or the step's
// gracePeriod). Unlike kubectl it does not wait for the pods to be gone.
func (drainVerb) run(r *Runner, s Step) error {
	return r.onNode(s, func(node string) error {
		return faults.Drain(r.ctx.Client(), node, s.GracePeriod)
	})
}

// onNode calls fn with the name of the step's node.
func (r *Runner) onNode(s Step, fn func(name string) error) error {
	_, name, err := ParseTarget(s.Target)
	if err != nil {
		return err
	}
	return fn(name)
}

// patchNode sends kubectl cordon's (uncordon's) patch.
func (r *Runner) patchNode(s Step, patch string) error {
	return r.eachTarget(s, func(kind apiserver.Kind, ns, name string) error {
		_, err := r.ctx.Client().Patch(kind, ns, name, types.StrategicMergePatchType, []byte(patch), "")
		return err
	})
}

// nodeTarget reads the node a node verb names, one of the cluster's when
// its nodes are known. It is false when the value names no such node: the
// step's options are then not read.
func (p *parser) nodeTarget(st *Step, in stepInput) bool {
	field, val := in.field(), in.act.val
	s, ok := p.str(val, field)
	if !ok {
		return true
	}
	name, ok := p.nodeName(val, field, s)
	if !ok {
		return false
	}
	if in.clusterOK && !p.nodes[name] {
		p.fail(val, field, fmt.Sprintf("Invalid value: %q: no such node in the cluster (nodes: %s)", s, listSome(p.nodeNames, 10)))
		return false
	}
	st.Target = "node/" + name
	return true
}

// nodeName reads a node named "node-2" or "node/node-2".
func (p *parser) nodeName(n *yaml.Node, field, s string) (string, bool) {
	if kind, name, err := ParseTarget(s); err == nil && strings.Contains(s, "/") {
		if kind != apiserver.Nodes || name == "" {
			p.fail(n, field, fmt.Sprintf("Invalid value: %q: expected a node: node/<name>", s))
			return "", false
		}
		return name, true
	}
	return s, true
}

func (p *parser) removeNode(name string) {
	delete(p.nodes, name)
	p.nodeNames = slices.DeleteFunc(p.nodeNames, func(n string) bool { return n == name })
}

// addNode reads the node add-node adds: a name (node-4, node/node-4) or a
// node as the cluster's nodes are written ({name, labels, zone, capacity,
// unschedulable, taints}).
func (p *parser) addNode(st *Step, n *yaml.Node, fp string, clusterOK bool) {
	v := content(n)
	var spec cluster.NodeSpec
	before := len(p.errs.list)
	switch {
	case v == nil || isNull(v):
		p.fail(v, fp, "Required value: the node: add-node: node-4, or {name: node-4, labels: {…}, zone: …}")
		return
	case v.Kind == yaml.ScalarNode:
		name, ok := p.nodeName(v, fp, v.Value)
		if !ok {
			return
		}
		spec.Name = name
	case v.Kind == yaml.MappingNode:
		jv := p.jsonValue(v, reflect.TypeOf(cluster.NodeSpec{}), fp, 0)
		if len(p.errs.list) > before {
			return
		}
		data, err := json.Marshal(jv)
		if err == nil {
			err = json.Unmarshal(data, &spec)
		}
		if err != nil {
			p.fail(v, fp, err.Error())
			return
		}
	default:
		p.fail(v, fp, "Invalid value: expected a node name or {name, labels, zone, capacity, unschedulable, taints}")
		return
	}
	cfg := cluster.Config{Nodes: []cluster.NodeSpec{spec}}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		var agg utilerrors.Aggregate
		if !errors.As(err, &agg) {
			p.fail(v, fp, err.Error())
			return
		}
		for _, e := range agg.Errors() {
			var fe *field.Error
			if !errors.As(e, &fe) {
				p.fail(v, fp, e.Error())
				continue
			}
			sub := strings.TrimPrefix(strings.TrimPrefix(fe.Field, "nodes[0]"), ".")
			line := v.Line
			if v.Kind == yaml.MappingNode && sub != "" {
				line = lineOf(v, sub)
			}
			p.errs.add(&Error{File: p.file, Line: line, Field: joinPath(fp, sub), Detail: fe.ErrorBody()})
		}
		return
	}
	if clusterOK && p.nodes[spec.Name] {
		p.fail(v, fp, fmt.Sprintf("Duplicate value: %q: the cluster has that node already", spec.Name))
		return
	}
	st.Node, st.Target = &spec, "node/"+spec.Name
	if clusterOK {
		p.nodes[spec.Name] = true
		p.nodeNames = append(p.nodeNames, spec.Name)
	}
}
