package workloads

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/controller"
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
// the last step.
func Start(sc *Scenario, c *cluster.Cluster, onDone func()) *Runner {
	r := &Runner{sc: sc, ctx: controller.NewContext(Client, c.API), cluster: c}
	steps := append([]Step(nil), sc.Steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	r.ctx.Go("steps", func() {
		if len(sc.Objects) > 0 {
			r.run(Step{Action: Create, Objects: sc.Objects})
		}
		for _, s := range steps {
			if d := s.At - r.ctx.World().Elapsed(); d > 0 {
				r.ctx.Sleep(d)
			}
			r.run(s)
		}
		if onDone != nil {
			onDone()
		}
	})
	return r
}

func (r *Runner) run(s Step) {
	res := StepResult{Step: s.String(), At: r.ctx.World().Elapsed().String()}
	if err := r.do(s); err != nil {
		res.Error = err.Error()
	}
	r.Results = append(r.Results, res)
}

func (r *Runner) do(s Step) error {
	c := r.ctx.Client()
	switch s.Action {
	case Create:
		for _, o := range s.Objects {
			if _, err := c.Create(o.DeepCopyObject().(apiserver.Object)); err != nil {
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
		patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, s.Replicas)
		resp := c.Do(&apiserver.Request{Verb: apiserver.Patch, Kind: kind, Namespace: ns, Name: name, Subresource: "scale",
			PatchType: types.MergePatchType, Patch: []byte(patch)})
		return resp.Err
	case Annotate, Label:
		field := "annotations"
		if s.Action == Label {
			field = "labels"
		}
		values := map[string]any{}
		for k, v := range s.Set {
			if v == "-" {
				values[k] = nil
			} else {
				values[k] = v
			}
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{field: values}})
		if err != nil {
			return err
		}
		_, err = c.Patch(kind, ns, name, types.MergePatchType, patch, "")
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
		return c.Delete(kind, ns, name, &metav1.DeleteOptions{PropagationPolicy: &policy})
	}
	return fmt.Errorf("unknown action %q", s.Action)
}
