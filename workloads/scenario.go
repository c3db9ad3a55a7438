// Package workloads describes what a run does to the cluster: the cluster
// itself, the manifests that exist at the start, and the steps a user (a
// kubectl client) takes at given virtual times, with what the run expects.
package workloads

import (
	"fmt"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
)

// Scenario is one workload.
type Scenario struct {
	Name    string
	Summary string
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
	Scale      Action = "scale"       // kubectl scale --replicas
	Annotate   Action = "annotate"    // kubectl annotate (key=value, key- removes)
	Label      Action = "label"       // kubectl label
	DeleteObj  Action = "delete"      // kubectl delete --cascade
	LoseNode   Action = "lose-node"   // the node's kubelet and heartbeats stop
	ReturnNode Action = "return-node" // the lost node comes back
)

// Step is one action at a virtual time.
type Step struct {
	At     time.Duration
	Action Action
	// Target names one object the kubectl way (rs/frontend, pod/pod1,
	// node/node-2); Selector (a label selector, "-l tier=frontend") selects
	// objects of Target's kind when Target has no name ("pods").
	Target   string
	Selector string
	// Limit, with a selector, takes only the first Limit matching objects in
	// name order (to touch "some pods").
	Limit    int
	Replicas int32
	Set      map[string]string // annotate and label
	Cascade  string            // delete: background (default), foreground or orphan
	Objects  []apiserver.Object
}

func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %s", s.At, s.Action)
	if s.Target != "" {
		b.WriteString(" " + s.Target)
	}
	if s.Selector != "" {
		b.WriteString(" -l " + s.Selector)
	}
	switch s.Action {
	case Scale:
		fmt.Fprintf(&b, " --replicas=%d", s.Replicas)
	case Annotate, Label:
		for _, k := range sortedKeys(s.Set) {
			fmt.Fprintf(&b, " %s=%s", k, s.Set[k])
		}
	case DeleteObj:
		if s.Cascade != "" {
			b.WriteString(" --cascade=" + s.Cascade)
		}
	case Create:
		for _, o := range s.Objects {
			fmt.Fprintf(&b, " %s/%s", apiserver.KindOf(o), o.GetName())
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

// LastStep is the virtual time of the last step (0 without steps).
func (sc *Scenario) LastStep() time.Duration {
	var last time.Duration
	for _, s := range sc.Steps {
		last = max(last, s.At)
	}
	return last
}
