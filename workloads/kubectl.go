package workloads

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/history"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// do plays the step through its verb.
func (r *Runner) do(s Step) error {
	v, ok := verbs[string(s.Action)]
	if !ok {
		return fmt.Errorf("unknown action %q", s.Action)
	}
	return v.run(r, s)
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
