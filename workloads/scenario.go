// Package workloads describes what a run does to the cluster: the cluster
// itself, the manifests that exist at the start, and the steps a user (a
// kubectl client) takes at given virtual times, with what the run expects.
package workloads

import (
	"fmt"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// Heavy scenarios take long to run (tens of seconds): ctrlsim compare
	// leaves them out unless they are named.
	Heavy bool
	// Load is the CPU load on the pods over time, for the autoscaler models
	// (the metrics they read); in the order written, at never decreasing.
	Load []LoadPoint
	// Faults is the fault plan: what goes wrong, and when.
	Faults faults.Plan
	// Run: the strategy and seed to run with unless told otherwise.
	Run RunDefaults

	file string                       // the name it was parsed under
	text []byte                       // the file as read (SelfContained)
	read func(string) ([]byte, error) // how its manifest files were read
}

// LoadPoint sets the CPU load of some pods from a virtual time on, until the
// next point for the same target.
type LoadPoint struct {
	At time.Duration
	// Target names the object whose pods carry the load, the kubectl way
	// (rs/frontend); "" is every pod.
	Target string
	// CPU is the pods' CPU use in percent of their CPU request (0 or more;
	// over 100 when they use more than they request).
	CPU int32
}

// Expect is what the run checks after the last step.
type Expect struct {
	// ConvergeWithin: the controllers must reach their desired state within
	// this long after the last disturbance. Default 5m.
	ConvergeWithin time.Duration
	// StableFor: and stay there this long. Default 30s.
	StableFor time.Duration
	// MaxOvershoot, when set, makes overshoot an invariant: no owner may
	// have more than this many pods beyond spec.replicas right after creating
	// one (0: never more than asked for).
	MaxOvershoot *int
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

	SetImage      Action = "set-image"      // kubectl set image: the pod template's container images
	RolloutUndo   Action = "rollout-undo"   // kubectl rollout undo [--to-revision]
	RolloutPause  Action = "rollout-pause"  // kubectl rollout pause (spec.paused)
	RolloutResume Action = "rollout-resume" // kubectl rollout resume
	RollingUpdate Action = "rolling-update" // kubectl rolling-update of a ReplicationController (client side)
	Drain         Action = "drain"          // kubectl drain --ignore-daemonsets --force: cordon, then delete the node's pods
	AddNode       Action = "add-node"       // a new machine joins: its kubelet registers the Node
	DeleteNode    Action = "delete-node"    // the machine goes: Node deleted, kubelet stopped for good
)

// Defaults of kubectl rolling-update.
const (
	DefaultUpdatePeriod  = time.Minute
	DefaultPollInterval  = 3 * time.Second
	DefaultUpdateTimeout = 5 * time.Minute
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
	// Overwrite lets annotate and label change a key that already has another
	// value (kubectl's --overwrite); without it such a step fails.
	Overwrite   bool
	Cascade     string // delete: background (default), foreground or orphan
	GracePeriod *int64 // delete: --grace-period in seconds
	// ExpectError is the API status reason the step must fail with (a stale
	// resourceVersion is refused with Conflict); empty: it must succeed.
	ExpectError metav1.StatusReason
	// ExpectErrorMessage is text the step's error must contain: for refusals
	// of kubectl itself, which carry no API status reason ("no rollout
	// history found"). With ExpectError, both must hold.
	ExpectErrorMessage string
	// Objects: create and apply create them; rolling-update's new
	// ReplicationController is Objects[0].
	Objects []apiserver.Object
	// Images: set-image's container=image pairs ("*" is every container).
	Images map[string]string
	// ToRevision: rollout-undo --to-revision (0: the previous revision).
	ToRevision int64
	// Rolling-update by image (instead of a new ReplicationController):
	// --image, and --container when the pods have more than one.
	Image     string
	Container string
	// Rolling-update's --update-period, --poll-interval and --timeout.
	UpdatePeriod  time.Duration
	PollInterval  time.Duration
	UpdateTimeout time.Duration
	// Node is the node add-node adds (Target is node/<its name>).
	Node *cluster.NodeSpec
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
	if v, ok := verbs[string(s.Action)]; ok {
		v.describe(&b, s)
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

// Unsupported says why the step cannot run in ctrlsim yet (nil when it can):
// its action needs a controller model or a client-side actor that has not
// landed. Such a step fails when it runs, with this error, and the run's steps
// check reports it.
//
// Every action runs today; the hook stays for actions whose model is still
// to come.
func (s Step) Unsupported() error { return nil }

// Unsupported is the first step that cannot run in ctrlsim yet, and why (see
// Step.Unsupported); nil when every step can.
func (sc *Scenario) Unsupported() (*Step, error) {
	for i := range sc.Steps {
		if err := sc.Steps[i].Unsupported(); err != nil {
			return &sc.Steps[i], err
		}
	}
	return nil, nil
}

// AllObjects are the objects the scenario creates: its manifests, then those
// of its steps, in order.
func (sc *Scenario) AllObjects() []apiserver.Object {
	objs := append([]apiserver.Object(nil), sc.Objects...)
	for _, st := range sc.Steps {
		objs = append(objs, st.Objects...)
	}
	return objs
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

// LastDisturbance is the latest time a step can happen or a fault can still
// be active: convergence is judged after it.
func (sc *Scenario) LastDisturbance() time.Duration {
	return max(sc.LastStep(), sc.Faults.LastHeal())
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
