// Package workloads describes what a run does to the cluster: the cluster
// itself, the manifests that exist at the start, and the steps a user (a
// kubectl client) takes at given virtual times, with what the run expects.
package workloads

import (
	"fmt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
)

// Scenario is one workload.
type Scenario struct {
	Name    string
	Summary string
	// Source is the file the scenario was read from ("" for the built-in
	// catalog).
	Source  string
	Cluster cluster.Config
	// Objects are created by the workload client at time zero, in order.
	Objects []apiserver.Object
	Steps   []Step
	Expect  Expect
}

// Expect is what the run checks after the last step.
type Expect struct {
	// ConvergeWithin: the controllers must reach their desired state within
	// this long after the last disturbance. Default 5m.
	ConvergeWithin time.Duration
	// StableFor: and stay there this long. Default 30s.
	StableFor time.Duration
}

// Action is what a step does, in kubectl's words.
type Action string

// The actions a step can take.
const (
	Create     Action = "create"      // create Objects
	Apply      Action = "apply"       // kubectl apply: create Objects, or patch them where they exist
	Scale      Action = "scale"       // kubectl scale --replicas [--current-replicas] [--resource-version]
	Annotate   Action = "annotate"    // kubectl annotate (Set; Remove are the key- arguments)
	Label      Action = "label"       // kubectl label
	DeleteObj  Action = "delete"      // kubectl delete --cascade [--grace-period]
	Cordon     Action = "cordon"      // kubectl cordon
	Uncordon   Action = "uncordon"    // kubectl uncordon
	Wait       Action = "wait"        // kubectl wait: only the step's After condition
	LoseNode   Action = "lose-node"   // the node's kubelet and heartbeats stop
	ReturnNode Action = "return-node" // the lost node comes back
)

// DefaultTimeout is how long a step waits for its After condition unless it
// says otherwise.
const DefaultTimeout = 5 * time.Minute

// Step is one action at a virtual time, or once a condition holds.
type Step struct {
	// At is the virtual time of the step. A scenario with conditions runs its
	// steps in order: there At is "not before".
	At time.Duration
	// After, when set, holds the step until the condition holds (checked every
	// second through the API), for at most Timeout; then the step fails
	// without acting.
	After *Condition
	// Timeout bounds the wait for After (0: DefaultTimeout).
	Timeout time.Duration
	Action  Action
	// Target names one object the kubectl way (rs/frontend, pod/pod1,
	// node/node-2); Selector (a label selector, "-l tier=frontend") selects
	// objects of Target's kind when Target has no name ("pods").
	Target   string
	Selector string
	// Limit, with a selector, takes only the first Limit matching objects in
	// name order (to touch "some pods").
	Limit    int
	Replicas int32
	// Preconditions of scale (kubectl scale --current-replicas,
	// --resource-version): the scale subresource is read, its spec.replicas
	// must be CurrentReplicas, and the write carries ResourceVersion (or the
	// one read), so a stale one is a 409 Conflict.
	CurrentReplicas *int32
	ResourceVersion string
	Set             map[string]string // annotate and label: key=value
	Remove          []string          // annotate and label: key- (remove the key)
	Cascade         string            // delete: background (default), foreground or orphan
	GracePeriod     *int64            // delete: --grace-period in seconds
	// ExpectError is the API status reason the step must fail with (a stale
	// resourceVersion is refused with Conflict); empty: it must succeed.
	ExpectError metav1.StatusReason
	Objects     []apiserver.Object
}

func (s Step) String() string {
	var b strings.Builder
	if s.After != nil {
		if s.At > 0 {
			fmt.Fprintf(&b, "%v, ", s.At)
		}
		fmt.Fprintf(&b, "after %s (timeout %v) %s", s.After, s.WaitLimit(), s.Action)
	} else {
		fmt.Fprintf(&b, "%v %s", s.At, s.Action)
	}
	if s.Target != "" {
		b.WriteString(" " + s.Target)
	}
	if s.Selector != "" {
		b.WriteString(" -l " + s.Selector)
	}
	switch s.Action {
	case Scale:
		fmt.Fprintf(&b, " --replicas=%d", s.Replicas)
		if s.CurrentReplicas != nil {
			fmt.Fprintf(&b, " --current-replicas=%d", *s.CurrentReplicas)
		}
		if s.ResourceVersion != "" {
			b.WriteString(" --resource-version=" + s.ResourceVersion)
		}
	case Annotate, Label:
		for _, k := range sortedKeys(s.Set) {
			fmt.Fprintf(&b, " %s=%s", k, s.Set[k])
		}
		for _, k := range s.Remove {
			fmt.Fprintf(&b, " %s-", k)
		}
	case DeleteObj:
		if s.Cascade != "" {
			b.WriteString(" --cascade=" + s.Cascade)
		}
		if s.GracePeriod != nil {
			fmt.Fprintf(&b, " --grace-period=%d", *s.GracePeriod)
		}
	case Create, Apply:
		for _, o := range s.Objects {
			name := o.GetName()
			if name == "" {
				name = o.GetGenerateName() + "*"
			}
			fmt.Fprintf(&b, " %s/%s", apiserver.KindOf(o), name)
		}
	}
	return b.String()
}

// Defaults fills what the scenario leaves out.
func (sc *Scenario) Defaults() {
	if sc.Expect.ConvergeWithin == 0 {
		sc.Expect.ConvergeWithin = 5 * time.Minute
	}
	if sc.Expect.StableFor == 0 {
		sc.Expect.StableFor = 30 * time.Second
	}
}

// WaitLimit is how long the step waits for its condition at most.
func (s Step) WaitLimit() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

// HasConditions reports whether a step waits for a condition; such a scenario
// runs its steps in the order they are written.
func (sc *Scenario) HasConditions() bool {
	for _, s := range sc.Steps {
		if s.After != nil {
			return true
		}
	}
	return false
}

// LastStep is the virtual time of the last step (0 without steps). With
// conditions it is the latest the last step can happen: every condition
// waiting out its timeout.
func (sc *Scenario) LastStep() time.Duration {
	var last time.Duration
	for _, s := range sc.Steps {
		last = max(last, s.At)
		if s.After != nil {
			last += s.WaitLimit()
		}
	}
	return last
}
