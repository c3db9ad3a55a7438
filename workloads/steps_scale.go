package workloads

import (
	"fmt"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"k8s.io/apimachinery/pkg/types"
)

// scaleVerb is kubectl scale --replicas [--current-replicas]
// [--resource-version].
type scaleVerb struct{}

// scalable kinds have the scale subresource.
var scalable = map[apiserver.Kind]bool{apiserver.ReplicaSets: true, apiserver.ReplicationControllers: true, apiserver.Deployments: true, apiserver.StatefulSets: true}

func (scaleVerb) name() Action { return Scale }

func (scaleVerb) options() []string {
	return []string{"replicas", "currentReplicas", "resourceVersion", "selector", "limit"}
}

func (scaleVerb) parse(p *parser, st *Step, in stepInput) {
	kind, _, ok := p.objectTarget(st, in, nil)
	if !ok {
		return
	}
	if !scalable[kind] {
		p.fail(in.act.val, in.field(), fmt.Sprintf("Invalid value: %q: a %s has no scale subresource (scale a ReplicaSet, ReplicationController, Deployment or StatefulSet)", st.Target, kind))
	}
	path := in.path
	if e, ok := in.opts["replicas"]; !ok {
		p.fail(in.act.key, path+".replicas", "Required value: the number of replicas to scale to")
	} else if v, ok := p.intNode(e.val, path+".replicas", 0, 1<<31-1); ok {
		st.Replicas = int32(v)
	}
	if e, ok := in.opts["currentReplicas"]; ok {
		if v, ok := p.intNode(e.val, path+".currentReplicas", 0, 1<<31-1); ok {
			c := int32(v)
			st.CurrentReplicas = &c
		}
	}
	if e, ok := in.opts["resourceVersion"]; ok {
		if v, ok := p.str(e.val, path+".resourceVersion"); ok {
			if v == "" {
				p.fail(e.val, path+".resourceVersion", "Required value")
			}
			st.ResourceVersion = v
		}
	}
}

func (scaleVerb) describe(b *strings.Builder, s Step) {
	fmt.Fprintf(b, " --replicas=%d", s.Replicas)
	if s.CurrentReplicas != nil {
		fmt.Fprintf(b, " --current-replicas=%d", *s.CurrentReplicas)
	}
	if s.ResourceVersion != "" {
		b.WriteString(" --resource-version=" + s.ResourceVersion)
	}
}

// run patches the scale subresource, or with preconditions reads it first.
func (scaleVerb) run(r *Runner, s Step) error {
	return r.eachTarget(s, func(kind apiserver.Kind, ns, name string) error {
		if s.CurrentReplicas != nil || s.ResourceVersion != "" {
			return r.scaleWithPreconditions(s, kind, ns, name)
		}
		patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, s.Replicas)
		resp := r.ctx.Client().Do(&apiserver.Request{Verb: apiserver.Patch, Kind: kind, Namespace: ns, Name: name, Subresource: "scale",
			PatchType: types.MergePatchType, Patch: []byte(patch)})
		return resp.Err
	})
}

// scaleWithPreconditions is kubectl scale --current-replicas /
// --resource-version: read the scale subresource, check the current replicas,
// and write it back carrying the resourceVersion (the one given, else the one
// read): a stale one is the server's 409 Conflict.
func (r *Runner) scaleWithPreconditions(s Step, kind apiserver.Kind, ns, name string) error {
	c := r.ctx.Client()
	scale, err := c.GetScale(kind, ns, name)
	if err != nil {
		return err
	}
	if s.CurrentReplicas != nil && scale.Spec.Replicas != *s.CurrentReplicas {
		return fmt.Errorf("Expected replicas to be %d, was %d", *s.CurrentReplicas, scale.Spec.Replicas)
	}
	if s.ResourceVersion != "" {
		scale.ResourceVersion = s.ResourceVersion
	}
	scale.Spec.Replicas = s.Replicas
	_, err = c.UpdateScale(kind, ns, scale)
	return err
}
