package workloads

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	yaml "go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The rollout verbs change a workload's pod template, or its rollout.

type (
	// setImageVerb is kubectl set image: the pod template's container
	// images.
	setImageVerb struct{}
	// rolloutUndoVerb is kubectl rollout undo [--to-revision].
	rolloutUndoVerb struct{}
	// rolloutPauseVerb is kubectl rollout pause (spec.paused).
	rolloutPauseVerb struct{ noOptions }
	// rolloutResumeVerb is kubectl rollout resume.
	rolloutResumeVerb struct{ noOptions }
)

func (setImageVerb) name() Action      { return SetImage }
func (rolloutUndoVerb) name() Action   { return RolloutUndo }
func (rolloutPauseVerb) name() Action  { return RolloutPause }
func (rolloutResumeVerb) name() Action { return RolloutResume }

// The kinds each rollout verb takes.
var (
	setImageKinds = &kindRule{[]apiserver.Kind{apiserver.Deployments, apiserver.ReplicaSets, apiserver.ReplicationControllers, apiserver.StatefulSets, apiserver.DaemonSets},
		"set-image sets the pod template of a Deployment, ReplicaSet, ReplicationController, StatefulSet or DaemonSet"}
	rolloutUndoKinds   = &kindRule{[]apiserver.Kind{apiserver.Deployments, apiserver.DaemonSets, apiserver.StatefulSets}, "rollout-undo rolls back a Deployment, DaemonSet or StatefulSet"}
	rolloutPauseKinds  = &kindRule{[]apiserver.Kind{apiserver.Deployments}, "rollout-pause pauses a Deployment"}
	rolloutResumeKinds = &kindRule{[]apiserver.Kind{apiserver.Deployments}, "rollout-resume resumes a Deployment"}
)

func (setImageVerb) options() []string    { return []string{"image", "selector", "limit"} }
func (rolloutUndoVerb) options() []string { return []string{"toRevision"} }

func (setImageVerb) parse(p *parser, st *Step, in stepInput) {
	if _, _, ok := p.objectTarget(st, in, setImageKinds); !ok {
		return
	}
	e, ok := in.opts["image"]
	if !ok {
		p.fail(in.act.key, in.path+".image", "Required value: the images to set, by container: image: {nginx: nginx:1.91} (* for every container)")
		return
	}
	st.Images = p.images(e.val, in.path+".image")
}

func (rolloutUndoVerb) parse(p *parser, st *Step, in stepInput) {
	if _, _, ok := p.objectTarget(st, in, rolloutUndoKinds); !ok {
		return
	}
	if e, ok := in.opts["toRevision"]; ok {
		if v, ok := p.intNode(e.val, in.path+".toRevision", 0, 1<<62); ok {
			st.ToRevision = v
		}
	}
}

func (rolloutPauseVerb) parse(p *parser, st *Step, in stepInput) {
	p.objectTarget(st, in, rolloutPauseKinds)
}

func (rolloutResumeVerb) parse(p *parser, st *Step, in stepInput) {
	p.objectTarget(st, in, rolloutResumeKinds)
}

func (setImageVerb) describe(b *strings.Builder, s Step) {
	for _, k := range slices.Sorted(maps.Keys(s.Images)) {
		fmt.Fprintf(b, " %s=%s", k, s.Images[k])
	}
}

func (rolloutUndoVerb) describe(b *strings.Builder, s Step) {
	if s.ToRevision != 0 {
		fmt.Fprintf(b, " --to-revision=%d", s.ToRevision)
	}
}

func (setImageVerb) run(r *Runner, s Step) error {
	return r.eachTarget(s, func(kind apiserver.Kind, ns, name string) error { return r.setImage(s, kind, ns, name) })
}

func (rolloutPauseVerb) run(r *Runner, s Step) error {
	return r.eachTarget(s, func(kind apiserver.Kind, ns, name string) error { return r.pause(true, kind, ns, name) })
}

func (rolloutResumeVerb) run(r *Runner, s Step) error {
	return r.eachTarget(s, func(kind apiserver.Kind, ns, name string) error { return r.pause(false, kind, ns, name) })
}

func (rolloutUndoVerb) run(r *Runner, s Step) error { return r.rolloutUndo(s) }

// rolloutUndo is kubectl rollout undo [--to-revision]: it rolls a Deployment
// back to an earlier revision's pod template, on the client side, as kubectl
// (k8s.io/kubectl polymorphichelpers, DeploymentRollbacker) does:
//
//   - read the Deployment and list its ReplicaSets (selector-matching, and
//     controlled by it); the revision wanted is --to-revision, or with none
//     the second highest revision;
//   - "unable to find specified revision N in history" when no ReplicaSet has
//     revision N, "no rollout history found for deployment" when there is no
//     previous one;
//   - refuse a paused Deployment;
//   - skip (no error, no write) when the Deployment's template already is
//     that revision's;
//   - else one JSON patch: spec.template replaced by the ReplicaSet's
//     template without its pod-template-hash label, and metadata.annotations
//     by the Deployment's own revision/replica annotations plus the
//     ReplicaSet's others.
//
// The controller then finds that ReplicaSet's template again and makes it the
// new ReplicaSet, with the next revision.
func (r *Runner) rolloutUndo(s Step) error {
	kind, name, err := ParseTarget(s.Target)
	if err != nil {
		return err
	}
	if kind != apiserver.Deployments {
		return fmt.Errorf("no rollbacker has been implemented for %q in ctrlsim (rollout undo takes a Deployment)", resourceName(kind))
	}
	if s.ToRevision < 0 {
		return revisionNotFound(s.ToRevision)
	}
	c := r.ctx.Client()
	ns := metav1.NamespaceDefault
	obj, err := c.Get(kind, ns, name)
	if err != nil {
		return err
	}
	d := obj.(*appsv1.Deployment)
	target, err := r.revisionReplicaSet(d, s.ToRevision)
	if err != nil {
		return err
	}
	if d.Spec.Paused {
		return fmt.Errorf("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/%s' and try again", name)
	}
	if kube.EqualIgnoreHash(&target.Spec.Template, &d.Spec.Template) {
		return nil // kubectl: skipped rollback (current template already matches revision N)
	}
	tmpl := target.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	annotations := kube.RollbackAnnotations(d.Annotations, target.Annotations)
	// kubectl replaces /metadata/annotations, which on a real cluster always
	// exists (the controller's revision annotation). A Deployment with none
	// takes an add, which is the same patch for one that has them.
	op := "replace"
	if len(d.Annotations) == 0 {
		op = "add"
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "replace", "path": "/spec/template", "value": tmpl},
		{"op": op, "path": "/metadata/annotations", "value": annotations},
	})
	if err != nil {
		return err
	}
	if _, err := c.Patch(kind, ns, name, types.JSONPatchType, patch, ""); err != nil {
		return fmt.Errorf("failed restoring revision %d: %v", s.ToRevision, err)
	}
	return nil
}

func revisionNotFound(n int64) error {
	return fmt.Errorf("unable to find specified revision %d in history", n)
}

// revisionReplicaSet finds the ReplicaSet of a revision (0: the previous
// one, the second highest) among the Deployment's.
func (r *Runner) revisionReplicaSet(d *appsv1.Deployment, toRevision int64) (*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	objs, _, err := r.ctx.Client().List(apiserver.ReplicaSets, d.Namespace, sel)
	if err != nil {
		return nil, fmt.Errorf("failed to retrieve replica sets from deployment %s: %v", d.Name, err)
	}
	var rss []*appsv1.ReplicaSet
	for _, o := range objs {
		if rs := o.(*appsv1.ReplicaSet); metav1.IsControlledBy(rs, d) {
			rss = append(rss, rs)
		}
	}
	// kubectl's order: the old ReplicaSets by age, then the new one (the
	// oldest with the Deployment's template).
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i], rss[j]
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
	for i, rs := range rss {
		if kube.EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			rss = append(append(rss[:i:i], rss[i+1:]...), rs)
			break
		}
	}
	var latest, previous *appsv1.ReplicaSet
	latestRev, previousRev := int64(-1), int64(-1)
	for _, rs := range rss {
		v, err := replicaSetRevision(rs)
		if err != nil {
			continue
		}
		switch {
		case toRevision > 0:
			if v == toRevision {
				return rs, nil
			}
		case v > latestRev:
			previous, previousRev = latest, latestRev
			latest, latestRev = rs, v
		case v > previousRev:
			previous, previousRev = rs, v
		}
	}
	if toRevision > 0 {
		return nil, revisionNotFound(toRevision)
	}
	if previous == nil {
		return nil, fmt.Errorf("no rollout history found for deployment %q", d.Name)
	}
	return previous, nil
}

func replicaSetRevision(rs *appsv1.ReplicaSet) (int64, error) {
	v, ok := rs.Annotations["deployment.kubernetes.io/revision"]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// setImage is kubectl set image: read the object, check that its pod template
// has the containers named (kubectl's "unable to find container named"), and
// send a strategic merge patch of their images. The container * is every
// container, init containers included.
func (r *Runner) setImage(s Step, kind apiserver.Kind, ns, name string) error {
	c := r.ctx.Client()
	obj, err := c.Get(kind, ns, name)
	if err != nil {
		return err
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var doc struct {
		Spec struct {
			Template *struct {
				Spec struct {
					Containers     []struct{ Name string }
					InitContainers []struct{ Name string }
				}
			}
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	if doc.Spec.Template == nil {
		return fmt.Errorf("%s %q has no pod template", resourceName(kind), name)
	}
	tmpl := doc.Spec.Template.Spec
	patchList := func(ctrs []struct{ Name string }, found map[string]bool) []map[string]string {
		var out []map[string]string
		for _, ctr := range ctrs {
			img, ok := s.Images[ctr.Name]
			if !ok {
				img, ok = s.Images["*"]
			}
			if ok {
				found[ctr.Name], found["*"] = true, true
				out = append(out, map[string]string{"name": ctr.Name, "image": img})
			}
		}
		return out
	}
	found := map[string]bool{}
	podSpec := map[string]any{}
	if l := patchList(tmpl.Containers, found); len(l) > 0 {
		podSpec["containers"] = l
	}
	if l := patchList(tmpl.InitContainers, found); len(l) > 0 {
		podSpec["initContainers"] = l
	}
	for _, ctr := range slices.Sorted(maps.Keys(s.Images)) {
		if !found[ctr] {
			return fmt.Errorf("unable to find container named %q in %s %q", ctr, resourceName(kind), name)
		}
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": podSpec}}})
	if err != nil {
		return err
	}
	_, err = c.Patch(kind, ns, name, types.StrategicMergePatchType, patch, "")
	return err
}

// pause is kubectl rollout pause (resume): patch spec.paused, refusing a
// Deployment already paused (not paused) as kubectl does.
func (r *Runner) pause(pause bool, kind apiserver.Kind, ns, name string) error {
	c := r.ctx.Client()
	obj, err := c.Get(kind, ns, name)
	if err != nil {
		return err
	}
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return fmt.Errorf("%s %q: rollout pause and resume take a Deployment", resourceName(kind), name)
	}
	switch {
	case pause && d.Spec.Paused:
		return fmt.Errorf("%s %q is already paused", resourceName(kind), name)
	case !pause && !d.Spec.Paused:
		return fmt.Errorf("%s %q is not paused", resourceName(kind), name)
	}
	patch := `{"spec":{"paused":true}}`
	if !pause {
		patch = `{"spec":{"paused":null}}`
	}
	_, err = c.Patch(kind, ns, name, types.StrategicMergePatchType, []byte(patch), "")
	return err
}

// images reads set-image's container=image pairs: a mapping {container:
// image}, a list of kubectl arguments [container=image], or those arguments
// in one string. The container * is every container.
func (p *parser) images(n *yaml.Node, path string) map[string]string {
	n = content(n)
	before := len(p.errs.list)
	out := map[string]string{}
	put := func(node *yaml.Node, k, v string) {
		field := path + "[" + k + "]"
		if _, dup := out[k]; dup {
			p.fail(node, field, fmt.Sprintf("Duplicate value: %q", k))
			return
		}
		if k != "*" {
			for _, msg := range validation.IsDNS1123Label(k) {
				p.fail(node, field, fmt.Sprintf("Invalid value: %q: a container name: %s", k, msg))
			}
		}
		if v == "" || strings.ContainsAny(v, " \t=") {
			p.fail(node, field, fmt.Sprintf("Invalid value: %q: an image, e.g. nginx:1.9.1", v))
		}
		out[k] = v
	}
	arg := func(node *yaml.Node, a string) {
		if k, v, ok := strings.Cut(a, "="); ok && k != "" {
			put(node, k, v)
		} else {
			p.fail(node, path, fmt.Sprintf("Invalid value: %q: expected container=image (as kubectl set image), or {container: image}", a))
		}
	}
	entry := func(key, v *yaml.Node) {
		if v == nil || isNull(v) || v.Kind != yaml.ScalarNode {
			p.fail(key, path+"["+key.Value+"]", "Required value: an image, e.g. nginx:1.9.1")
			return
		}
		put(key, key.Value, v.Value)
	}
	p.keyValues(n, path, "container=image", "{container: image}, or a list of container=image", entry, arg)
	if len(out) == 0 {
		if len(p.errs.list) == before {
			p.fail(n, path, "Required value: no images: {container: image}")
		}
		return nil
	}
	return out
}
