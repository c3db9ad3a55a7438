package check

import (
	"time"

	"fmt"
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Invariants are safety properties checked on every committed write; the
// first violation is kept with its virtual time.
//
//   - at most one controller owner per object;
//   - an orphan delete never deletes dependents: once an owner is being
//     deleted with propagationPolicy=Orphan, the garbage collector deletes
//     none of the objects that referenced it;
//   - a foreground delete removes the owner only after its blocking
//     dependents (ownerReferences with blockOwnerDeletion) are gone;
//   - no controller adopts an object that is being deleted (a terminating
//     object never gains a controller reference);
//   - Deployment rolling-update bounds: a RollingUpdate Deployment's pods
//     stay within spec.replicas + maxSurge and its available pods at or
//     above spec.replicas − maxUnavailable, each side checked only once it
//     has held since the last change of spec, fault or outside disruption
//     (the top of invariants_workloads.go says exactly when);
//   - a StatefulSet has at most one pod object per ordinal identity: no pod
//     is created (or adopted into an identity) while another pod object,
//     terminating or not, holds that identity.
type Invariants struct {
	w         *sim.World
	violation *Result
	// ownerOf: for every live object, the owner uids it references, and
	// whether the reference blocks the owner's deletion.
	refs map[types.UID]map[types.UID]bool // owner uid → dependent uid → blocks
	deps map[types.UID][]metav1.OwnerReference
	// orphaned: owners being orphan-deleted → the dependents they had then.
	orphaned map[types.UID]map[types.UID]bool
	names    map[types.UID]string
	// terminating: objects being deleted, since when (the adoption check)
	terminating map[types.UID]terminatingSince
	// GCClient is the client name of the garbage collector (default
	// cluster.ClientGarbageCollector).
	GCClient string
	// FaultActive says whether a fault is in force (nil: never). The
	// Deployment bounds are not checked while one is, and must hold again
	// after it before they are checked.
	FaultActive func() bool
	wl          *workloadState // the workload invariants' state (invariants_workloads.go)
}

// WatchInvariants starts checking every commit of api.
func WatchInvariants(api *apiserver.Server) *Invariants {
	inv := &Invariants{w: api.World(), refs: map[types.UID]map[types.UID]bool{}, deps: map[types.UID][]metav1.OwnerReference{},
		orphaned: map[types.UID]map[types.UID]bool{}, names: map[types.UID]string{}, GCClient: cluster.ClientGarbageCollector,
		terminating: map[types.UID]terminatingSince{}}
	api.OnCommit(inv.Observe)
	return inv
}

// Add checks fn on every committed write too (a strategy's own invariant):
// its first error is a violation.
func (inv *Invariants) Add(api *apiserver.Server, fn func(apiserver.Event) error) {
	api.OnCommit(func(ev apiserver.Event) {
		if inv.violation == nil {
			if err := fn(ev); err != nil {
				inv.fail("%v", err)
			}
		}
	})
}

// Result is pass, or the first violation.
func (inv *Invariants) Result() Result {
	if inv.violation != nil {
		return *inv.violation
	}
	return Result{Check: "invariants", Verdict: Pass}
}

func (inv *Invariants) fail(format string, args ...any) {
	if inv.violation == nil {
		inv.violation = &Result{Check: "invariants", Verdict: Fail, At: inv.w.Elapsed().String(), Message: fmt.Sprintf(format, args...)}
	}
}

// Observe checks one committed change.
func (inv *Invariants) Observe(ev apiserver.Event) {
	inv.observeWorkloads(ev)
	obj := ev.Object
	uid := obj.GetUID()
	name := fmt.Sprintf("%s %s", ev.Kind, ev.Key)
	inv.names[uid] = name

	controllers := 0
	for _, r := range obj.GetOwnerReferences() {
		if r.Controller != nil && *r.Controller {
			controllers++
		}
	}
	if controllers > 1 && ev.Type != watch.Deleted {
		inv.fail("%s has %d controller owners", name, controllers)
	}
	if obj.GetDeletionTimestamp() == nil || ev.Type == watch.Deleted {
		delete(inv.terminating, uid)
	} else if _, known := inv.terminating[uid]; !known {
		inv.terminating[uid] = terminatingSince{at: inv.w.Elapsed(), faulted: inv.FaultActive != nil && inv.FaultActive()}
	}
	if ev.Type == watch.Modified && ev.Old != nil && ev.Old.GetDeletionTimestamp() != nil &&
		metav1.GetControllerOfNoCopy(ev.Old) == nil {
		// Upstream checks the pod it adopts in its cache, and the adoption
		// patch has no resourceVersion precondition: a pod deleted after the
		// controller looked is adopted while terminating, legitimately. A
		// bug is adopting one that was terminating well before the request
		// was sent, with no fault to excuse a stale cache.
		since, ok := inv.terminating[uid]
		stale := ok && !since.faulted && ev.Called-since.at > AdoptionGrace && !(inv.FaultActive != nil && inv.FaultActive())
		if ref := metav1.GetControllerOfNoCopy(obj); ref != nil && stale {
			inv.fail("%s was adopted by %s %s while it was being deleted (for %v when the request was sent)", name, ref.Kind, ref.Name, ev.Called-since.at)
		}
	}

	// A dependent the GC deletes must not belong to an orphaned owner.
	gone := ev.Type == watch.Deleted
	startsDeleting := ev.Type == watch.Modified && obj.GetDeletionTimestamp() != nil && ev.Old != nil && ev.Old.GetDeletionTimestamp() == nil
	if (gone || startsDeleting) && ev.Client == inv.GCClient {
		for _, r := range inv.deps[uid] {
			if inv.orphaned[r.UID][uid] {
				inv.fail("the garbage collector deleted %s, a dependent of %s, which was deleted with propagationPolicy=Orphan", name, inv.names[r.UID])
			}
		}
	}

	// An owner starting an orphan delete: remember its dependents now.
	if ev.Type != watch.Deleted && obj.GetDeletionTimestamp() != nil && hasFinalizer(obj, metav1.FinalizerOrphanDependents) && inv.orphaned[uid] == nil {
		set := map[types.UID]bool{}
		for dep := range inv.refs[uid] {
			set[dep] = true
		}
		inv.orphaned[uid] = set
	}

	// An owner leaving storage after a foreground delete: no blocking
	// dependent may remain.
	// (Checked when the foreground finalizer goes: with the object, or before
	// it when other finalizers still hold the object.)
	fgDone := ev.Old != nil && hasFinalizer(ev.Old, metav1.FinalizerDeleteDependents) &&
		(gone || (obj.GetDeletionTimestamp() != nil && !hasFinalizer(obj, metav1.FinalizerDeleteDependents)))
	if fgDone {
		var blocking []string
		for dep, blocks := range inv.refs[uid] {
			if blocks {
				blocking = append(blocking, inv.names[dep])
			}
		}
		if len(blocking) > 0 {
			sort.Strings(blocking)
			inv.fail("%s lost its foreground-deletion finalizer while its blocking dependents existed: %v", name, blocking)
		}
	}

	// Keep the owner index.
	for _, r := range inv.deps[uid] {
		delete(inv.refs[r.UID], uid)
	}
	if gone {
		delete(inv.deps, uid)
		delete(inv.refs, uid)
		return
	}
	refs := obj.GetOwnerReferences()
	inv.deps[uid] = refs
	for _, r := range refs {
		m := inv.refs[r.UID]
		if m == nil {
			m = map[types.UID]bool{}
			inv.refs[r.UID] = m
		}
		m[uid] = r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion
	}
}

// AdoptionGrace is how long a pod may have been terminating when a
// controller sends the request that adopts it before that is a violation:
// longer than any watch delay outside a fault.
const AdoptionGrace = 5 * time.Second

type terminatingSince struct {
	at      time.Duration
	faulted bool // a fault was in force when it started terminating
}

func hasFinalizer(obj apiserver.Object, f string) bool {
	for _, x := range obj.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}
