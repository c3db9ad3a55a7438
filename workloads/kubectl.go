package workloads

import (
	"encoding/json"
	"fmt"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"sort"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Client is the name the workload's requests carry in the history.
const Client = "kubectl"

// StepResult is what one step did.
type StepResult struct {
	Step  string `json:"step"`
	At    string `json:"at"`
	Error string `json:"error,omitempty"`
	// Expected is the error the step was meant to get, and got.
	Expected string `json:"expected,omitempty"`
}

// Runner plays a scenario's objects and steps as a kubectl client would:
// every change is an ordinary API request, in the history like everyone
// else's.
type Runner struct {
	sc      *Scenario
	ctx     *controller.Context
	cluster *cluster.Cluster
	Results []StepResult
}

// Start begins playing sc on c. onDone runs (in the runner's coroutine) after
// the last step. Steps run at their times; a scenario with conditions runs
// them in the order they are written, each waiting for its condition.
func Start(sc *Scenario, c *cluster.Cluster, onDone func()) *Runner {
	r := &Runner{sc: sc, ctx: controller.NewContext(Client, c.API), cluster: c}
	steps := append([]Step(nil), sc.Steps...)
	if !sc.HasConditions() {
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	}
	r.ctx.Go("steps", func() {
		if len(sc.Objects) > 0 {
			r.run(Step{Action: Create, Objects: sc.Objects})
		}
		for _, s := range steps {
			if d := s.At - r.ctx.World().Elapsed(); d > 0 {
				r.ctx.Sleep(d)
			}
			if s.After != nil {
				if err := r.await(s); err != nil {
					r.Results = append(r.Results, StepResult{Step: s.String(), At: r.ctx.World().Elapsed().String(), Error: err.Error()})
					continue
				}
			}
			r.run(s)
		}
		if onDone != nil {
			onDone()
		}
	})
	return r
}

// PollInterval is how often a step checks its condition.
const PollInterval = time.Second

// await reads the condition's object every PollInterval until the condition
// holds, or fails once the step's timeout has passed.
func (r *Runner) await(s Step) error {
	cond := s.After
	w := r.ctx.World()
	deadline := w.Elapsed() + s.WaitLimit()
	for {
		var seen string
		obj, err := r.ctx.Client().Get(cond.Kind, metav1.NamespaceDefault, cond.Name)
		if err == nil {
			ok, have := cond.Holds(obj)
			if ok {
				return nil
			}
			seen = have
		} else {
			seen = err.Error()
		}
		now := w.Elapsed()
		if now >= deadline {
			return fmt.Errorf("timed out after %v waiting for %s (last seen: %s); the step did not run", s.WaitLimit(), cond, seen)
		}
		r.ctx.Sleep(min(PollInterval, deadline-now))
	}
}

func (r *Runner) run(s Step) {
	res := StepResult{Step: s.String(), At: r.ctx.World().Elapsed().String()}
	if err := s.Unsupported(); err != nil {
		// Whatever the step expected: it did not run.
		res.Error = err.Error()
		r.Results = append(r.Results, res)
		return
	}
	rec := r.cluster.API.History()
	start := rec.Stamp(r.ctx.World().Elapsed())
	err := r.do(s)
	rec.AddMark(history.Mark{Tag: "step", What: "step: " + res.Step, Start: start, End: rec.Stamp(r.ctx.World().Elapsed())})
	expected := s.ExpectError != "" || s.ExpectErrorMessage != ""
	want := string(s.ExpectError)
	if s.ExpectErrorMessage != "" {
		want = strings.TrimSpace(want + fmt.Sprintf(" %q", s.ExpectErrorMessage))
	}
	switch {
	case !expected && err != nil:
		res.Error = err.Error()
	case expected && err == nil:
		res.Error = fmt.Sprintf("expected the step to fail with %s, but it succeeded", want)
	case s.ExpectError != "" && apierrors.ReasonForError(err) != s.ExpectError,
		s.ExpectErrorMessage != "" && !strings.Contains(err.Error(), s.ExpectErrorMessage):
		res.Error = fmt.Sprintf("expected the step to fail with %s, but it failed with: %v", want, err)
	case expected:
		res.Expected = err.Error()
	}
	r.Results = append(r.Results, res)
}

func (r *Runner) do(s Step) error {
	c := r.ctx.Client()
	switch s.Action {
	case Wait:
		return nil
	case Create:
		for _, o := range s.Objects {
			if _, err := c.Create(o.DeepCopyObject().(apiserver.Object)); err != nil {
				return err
			}
		}
		return nil
	case Apply:
		for _, o := range s.Objects {
			if err := r.applyObject(o); err != nil {
				return err
			}
		}
		return nil
	case LoseNode, ReturnNode:
		_, name, err := ParseTarget(s.Target)
		if err != nil {
			return err
		}
		if s.Action == LoseNode {
			return r.cluster.LoseNode(name)
		}
		return r.cluster.ReturnNode(name)
	case AddNode:
		if s.Node == nil {
			return fmt.Errorf("add-node: no node given")
		}
		return r.cluster.AddNode(*s.Node)
	case DeleteNode:
		_, name, err := ParseTarget(s.Target)
		if err != nil {
			return err
		}
		return r.cluster.DeleteNode(name)
	case Drain:
		return r.drain(s)
	case RolloutUndo:
		return r.rolloutUndo(s) // rollout.go
	case RollingUpdate:
		return r.rollingUpdate(s) // rollingupdate.go
	}
	kind, targets, err := r.targets(s)
	if err != nil {
		return err
	}
	for _, name := range targets {
		if err := r.apply(s, kind, name); err != nil {
			return err
		}
	}
	return nil
}

// applyObject is kubectl apply of one object: created if it does not exist,
// else patched (a strategic merge patch of the manifest) so that fields the
// manifest does not set keep their live values. Unlike kubectl it keeps no
// last-applied configuration, so fields removed from a manifest stay.
func (r *Runner) applyObject(o apiserver.Object) error {
	c := r.ctx.Client()
	kind := apiserver.KindOf(o)
	ns := o.GetNamespace()
	if ns == "" && apiserver.Namespaced(kind) {
		ns = metav1.NamespaceDefault
	}
	_, err := c.Get(kind, ns, o.GetName())
	if apierrors.IsNotFound(err) {
		_, err = c.Create(o.DeepCopyObject().(apiserver.Object))
		return err
	}
	if err != nil {
		return err
	}
	patch, err := applyPatch(o)
	if err != nil {
		return err
	}
	_, err = c.Patch(kind, ns, o.GetName(), types.StrategicMergePatchType, patch, "")
	return err
}

// applyPatch is the manifest as a patch: without status and without the
// nulls of fields it does not set.
func applyPatch(o apiserver.Object) ([]byte, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	return json.Marshal(pruneNulls(m))
}

func pruneNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
			} else {
				t[k] = pruneNulls(e)
			}
		}
	case []any:
		for i, e := range t {
			t[i] = pruneNulls(e)
		}
	}
	return v
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

func (r *Runner) apply(s Step, kind apiserver.Kind, name string) error {
	c := r.ctx.Client()
	ns := metav1.NamespaceDefault
	if !apiserver.Namespaced(kind) {
		ns = ""
	}
	switch s.Action {
	case Scale:
		if s.CurrentReplicas != nil || s.ResourceVersion != "" {
			return r.scaleWithPreconditions(s, kind, ns, name)
		}
		patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, s.Replicas)
		resp := c.Do(&apiserver.Request{Verb: apiserver.Patch, Kind: kind, Namespace: ns, Name: name, Subresource: "scale",
			PatchType: types.MergePatchType, Patch: []byte(patch)})
		return resp.Err
	case Annotate, Label:
		field := "annotations"
		if s.Action == Label {
			field = "labels"
		}
		if !s.Overwrite {
			// kubectl refuses to change a value without --overwrite.
			obj, err := c.Get(kind, ns, name)
			if err != nil {
				return err
			}
			have := obj.GetAnnotations()
			if s.Action == Label {
				have = obj.GetLabels()
			}
			for _, k := range sortedKeys(s.Set) {
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
	case SetImage:
		return r.setImage(s, kind, ns, name)
	case RolloutPause, RolloutResume:
		return r.pause(s.Action == RolloutPause, kind, ns, name)
	case Cordon, Uncordon:
		patch := `{"spec":{"unschedulable":true}}`
		if s.Action == Uncordon {
			patch = `{"spec":{"unschedulable":null}}`
		}
		_, err := c.Patch(kind, ns, name, types.StrategicMergePatchType, []byte(patch), "")
		return err
	case DeleteObj:
		policy := metav1.DeletePropagationBackground
		switch s.Cascade {
		case "", "background":
		case "foreground":
			policy = metav1.DeletePropagationForeground
		case "orphan":
			policy = metav1.DeletePropagationOrphan
		default:
			return fmt.Errorf("--cascade must be background, foreground or orphan, not %q", s.Cascade)
		}
		return c.Delete(kind, ns, name, &metav1.DeleteOptions{PropagationPolicy: &policy, GracePeriodSeconds: s.GracePeriod})
	}
	return fmt.Errorf("unknown action %q", s.Action)
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

// resourceName is how kubectl names a kind in messages: deployments.apps.
func resourceName(kind apiserver.Kind) string {
	res := strings.ToLower(string(kind)) + "s"
	if names := resourceNames[kind]; len(names) > 1 {
		res = names[1]
	}
	if g := apiserver.GroupVersionOf(kind).Group; g != "" {
		res += "." + g
	}
	return res
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
	for _, ctr := range sortedKeys(s.Images) {
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

// drain is kubectl drain --ignore-daemonsets --force, deleting rather than
// evicting (the API server serves no eviction subresource, and there are no
// PodDisruptionBudgets): cordon the node, then delete every pod bound to it
// but those a DaemonSet controls and those already terminating, each with its
// own grace period (or the step's gracePeriod). Unlike kubectl it does not
// wait for the pods to be gone.
func (r *Runner) drain(s Step) error {
	_, node, err := ParseTarget(s.Target)
	if err != nil {
		return err
	}
	return faults.Drain(r.ctx.Client(), node, s.GracePeriod)
}
