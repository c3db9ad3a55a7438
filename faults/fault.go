// Package faults is what can go wrong in a run, as data: the fault kinds, a
// plan of faults (the faults: section of a scenario, or a file of its own),
// the injector that plays a plan on the simulated cluster, the random
// (swarm) plan generator, and the shrinker that minimizes a failing run.
//
// A fault starts at a virtual time (at:), or once a condition holds
// (after:), and heals after its duration (for:). Faults without a duration
// are instants (a crash, a kill, a dropped watch) or permanent edits (a
// relabel). Every fault is drawn on the run's timeline as a mark, so the
// history and porcupine's view show when it was active.
package faults

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
)

// Kind names a kind of fault, as a plan writes it.
type Kind string

// The fault kinds.
const (
	// Nodes.
	LoseNode      Kind = "lose-node"      // kubelet and heartbeats stop, containers too; for: then it returns
	PartitionNode Kind = "partition-node" // cut off from the API server, containers keep running; for: then it reconnects
	DeleteNode    Kind = "delete-node"    // the Node object is deleted; for: then its kubelet registers it again
	CordonNode    Kind = "cordon-node"    // spec.unschedulable; for: then uncordoned
	DrainNode     Kind = "drain-node"     // cordon and evict every pod but DaemonSets'; for: then uncordoned

	// Pods (target: pods, with selector: and count:).
	CrashPod          Kind = "crash-pod"         // a container exits 1: restart, CrashLoopBackOff
	KillPod           Kind = "kill-pod"          // deleted (gracePeriod: optional)
	ForceDeletePod    Kind = "force-delete-pod"  // deleted with grace period 0: gone at once, whatever the kubelet does
	StuckTerminating  Kind = "stuck-terminating" // deleted while a finalizer holds it; for: then the finalizer goes
	FlapReadiness     Kind = "flap-readiness"    // the readiness probe fails and passes every period; for: then it passes
	Relabel           Kind = "relabel"           // labels set/removed (out of or into a selector); for: then restored
	Annotate          Kind = "annotate"          // annotations set/removed (deletion cost); for: then restored
	OrphanDelete      Kind = "orphan-delete"     // the owner deleted with propagationPolicy=Orphan; for: then recreated
	APILatency        Kind = "api-latency"       // extra latency on the verbs
	APIError          Kind = "api-error"         // the verbs fail (code: 409, 429, 500 or 504) at rate
	LoseResponse      Kind = "lose-response"     // the ambiguous write: it commits, the client sees a timeout
	WatchDelay        Kind = "watch-delay"       // a controller's watches lag by delay (a stale cache)
	WatchDrop         Kind = "watch-drop"        // a controller's watches end (gone: true, with 410 Gone); it relists
	CrashController   Kind = "crash-controller"  // the controller process dies (caches, queues, expectations lost); for: then restarts
	StallController   Kind = "stall-controller"  // its workers stop running for the window
	SplitBrain        Kind = "split-brain"       // a second instance runs for the window, as after a lease expiry
	ClockSkew         Kind = "clock-skew"        // the controller's clock is off by skew
	targetAllControls      = "*"
)

// Target says what a kind of fault acts on.
type Target string

// Targets.
const (
	TargetNode       Target = "node"       // node/<name>
	TargetPods       Target = "pods"       // pods (selector:, count:)
	TargetObject     Target = "object"     // <kind>/<name>, an owner
	TargetVerbs      Target = "verbs"      // API verbs: create,update (or *)
	TargetController Target = "controller" // the controller of a kind (rs, rc, deploy…) or * for all
)

// KindInfo describes a kind of fault: what it targets, what options it takes
// besides at, after, timeout and for, and whether it needs a duration.
type KindInfo struct {
	Kind    Kind
	Target  Target
	Options []string
	// Window: the fault is a state that lasts for: (required). Otherwise
	// for: is optional (a heal that undoes it) or meaningless (an instant).
	Window bool
	// Heals: for: undoes the fault (a node returns, labels are restored).
	Heals   bool
	Summary string
}

// Kinds are every fault kind, in the order the documentation lists them.
var Kinds = []KindInfo{
	{LoseNode, TargetNode, nil, false, true, "the node's kubelet and heartbeats stop (its pods end up Terminating after eviction); for: then it returns"},
	{PartitionNode, TargetNode, nil, false, true, "the node is cut off from the API server (no heartbeats, no status); for: then it reconnects and syncs"},
	{DeleteNode, TargetNode, nil, false, true, "the Node object is deleted; for: then the kubelet registers it again"},
	{CordonNode, TargetNode, nil, false, true, "the node is cordoned; for: then uncordoned"},
	{DrainNode, TargetNode, []string{"gracePeriod"}, false, true, "the node is cordoned and its pods (but DaemonSets') deleted; for: then uncordoned"},
	{CrashPod, TargetPods, []string{"selector", "count"}, false, false, "a container of count matching pods exits with code 1"},
	{KillPod, TargetPods, []string{"selector", "count", "gracePeriod"}, false, false, "count matching pods are deleted"},
	{ForceDeletePod, TargetPods, []string{"selector", "count"}, false, false, "count matching pods are deleted with grace period 0"},
	{StuckTerminating, TargetPods, []string{"selector", "count"}, true, true, "count matching pods are deleted while a finalizer holds them; for: then it goes"},
	{FlapReadiness, TargetPods, []string{"selector", "count", "period"}, true, true, "the readiness probe of count matching pods fails, passes, fails… every period (default 10s); for: then it passes"},
	{Relabel, TargetPods, []string{"selector", "count", "set"}, false, true, "labels of count matching pods are set or removed (out of or into a selector); for: then restored"},
	{Annotate, TargetPods, []string{"selector", "count", "set"}, false, true, "annotations of count matching pods are set or removed (deletion cost); for: then restored"},
	{OrphanDelete, TargetObject, []string{"recreate", "recreateAs"}, false, true, "the owner is deleted with propagationPolicy=Orphan; for: then it is created again (recreate: false to not; recreateAs: another name, same selector)"},
	{APILatency, TargetVerbs, []string{"delay", "clients"}, true, true, "requests of the verbs take delay longer"},
	{APIError, TargetVerbs, []string{"code", "rate", "clients"}, true, true, "requests of the verbs fail with code (409, 429, 500, 504) at rate, uncommitted"},
	{LoseResponse, TargetVerbs, []string{"rate", "clients"}, true, true, "requests of the verbs commit but their response is lost: the client times out"},
	{WatchDelay, TargetController, []string{"delay"}, true, true, "the controller's watch events arrive delay late"},
	{WatchDrop, TargetController, []string{"gone"}, false, false, "the controller's watches end (gone: true, with 410 Gone) and it relists"},
	{CrashController, TargetController, nil, false, true, "the controller's process dies, losing all it held in memory; for: then it restarts"},
	{StallController, TargetController, nil, true, true, "the controller's workers stall for the window"},
	{SplitBrain, TargetController, nil, true, true, "a second instance of the controller runs for the window"},
	{ClockSkew, TargetController, []string{"skew"}, true, true, "the controller's clock is off by skew (a duration, may be negative)"},
}

// Info finds a kind's description.
func Info(k Kind) (KindInfo, bool) {
	for _, i := range Kinds {
		if i.Kind == k {
			return i, true
		}
	}
	return KindInfo{}, false
}

// KindNames lists the kinds' names.
func KindNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k.Kind)
	}
	return out
}

// Trigger is a condition a fault waits for (after:), such as
// "rs/frontend ready=3". The scenario parser makes them.
type Trigger interface {
	// Object is what the condition reads.
	Object() (apiserver.Kind, string)
	// Holds says whether obj satisfies it.
	Holds(obj apiserver.Object) (bool, string)
	String() string
}

// Fault is one fault of a plan.
type Fault struct {
	Kind Kind
	// At is when it starts; with After, the earliest it may start.
	At time.Duration
	// After, when set, starts the fault once the condition holds (checked on
	// every change of its object), at the earliest at At, waiting at most
	// Timeout (default 5m): then the fault does not happen.
	After   Trigger
	Timeout time.Duration
	// For is how long it lasts (0: an instant, or for good).
	For time.Duration
	// Target, as written: node/node-2, pods, rs/frontend, create,update, rs.
	Target string

	Selector    string            // pods: a label selector
	Count       int               // pods: how many of the matching ones (default 1)
	GracePeriod *int64            // kill-pod, drain-node
	Set         map[string]string // relabel, annotate: key=value
	Remove      []string          // relabel, annotate: keys removed
	Recreate    *bool             // orphan-delete (default true)
	RecreateAs  string            // orphan-delete: recreate under this name
	Period      time.Duration     // flap-readiness (default 10s)
	Delay       apiserver.Dist    // api-latency, watch-delay
	Code        int               // api-error
	Rate        float64           // api-error, lose-response (default 1)
	Clients     string            // API faults: "controllers" (default) or "all"
	Gone        bool              // watch-drop: the watch ends with 410 Gone
	Skew        time.Duration     // clock-skew
}

// DefaultTimeout bounds the wait for a fault's condition.
const DefaultTimeout = 5 * time.Minute

// Verbs are the API verbs an API fault names (Target), in order.
func (f Fault) Verbs() []string {
	if f.Target == "*" {
		return []string{"*"}
	}
	vs := strings.Split(f.Target, ",")
	for i := range vs {
		vs[i] = strings.TrimSpace(vs[i])
	}
	return vs
}

// HealsAt is the latest virtual time the fault can still be active, or
// disturb the cluster: its start (the latest, when it waits for a condition)
// plus its duration.
func (f Fault) HealsAt() time.Duration {
	start := f.At
	if f.After != nil {
		start += f.WaitLimit()
	}
	return start + f.For
}

// WaitLimit is how long the fault waits for its condition at most.
func (f Fault) WaitLimit() time.Duration {
	if f.Timeout <= 0 {
		return DefaultTimeout
	}
	return f.Timeout
}

// String is the fault in one line, for marks and reports.
func (f Fault) String() string {
	var b strings.Builder
	b.WriteString(string(f.Kind))
	if f.Target != "" {
		b.WriteString(" " + f.Target)
	}
	if f.Selector != "" {
		b.WriteString(" -l " + f.Selector)
	}
	if f.Count > 1 {
		fmt.Fprintf(&b, " count=%d", f.Count)
	}
	for _, k := range slices.Sorted(maps.Keys(f.Set)) {
		fmt.Fprintf(&b, " %s=%s", k, f.Set[k])
	}
	for _, k := range f.Remove {
		fmt.Fprintf(&b, " %s-", k)
	}
	switch f.Kind {
	case APILatency, WatchDelay:
		fmt.Fprintf(&b, " delay=%s", distString(f.Delay))
	case APIError:
		fmt.Fprintf(&b, " code=%d", f.Code)
	case ClockSkew:
		fmt.Fprintf(&b, " skew=%v", f.Skew)
	case WatchDrop:
		if f.Gone {
			b.WriteString(" gone")
		}
	}
	if (f.Kind == APIError || f.Kind == LoseResponse) && f.Rate > 0 && f.Rate < 1 {
		fmt.Fprintf(&b, " rate=%g", f.Rate)
	}
	if f.Clients == "all" {
		b.WriteString(" clients=all")
	}
	if f.After != nil {
		fmt.Fprintf(&b, " after %s", f.After)
	}
	if f.For > 0 {
		fmt.Fprintf(&b, " for %v", f.For)
	}
	return b.String()
}

func distString(d apiserver.Dist) string {
	if d.Min == d.Max {
		return d.Min.String()
	}
	return d.Min.String() + "-" + d.Max.String()
}

// Plan is the faults of a run, in the order written.
type Plan []Fault

// LastHeal is the latest time any fault of the plan may still be active.
func (p Plan) LastHeal() time.Duration {
	var last time.Duration
	for _, f := range p {
		last = max(last, f.HealsAt())
	}
	return last
}

// Kinds lists the distinct kinds in the plan, sorted.
func (p Plan) Kinds() []string {
	var out []string
	for _, f := range p {
		if !slices.Contains(out, string(f.Kind)) {
			out = append(out, string(f.Kind))
		}
	}
	sort.Strings(out)
	return out
}
