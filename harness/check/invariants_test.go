package check

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

func newInvariants() *Invariants {
	w := sim.New(1, sim.Limits{})
	return &Invariants{w: w, refs: map[types.UID]map[types.UID]bool{}, deps: map[types.UID][]metav1.OwnerReference{},
		orphaned: map[types.UID]map[types.UID]bool{}, names: map[types.UID]string{}, GCClient: cluster.ClientGarbageCollector,
		terminating: map[types.UID]terminatingSince{}}
}

func ref(uid string, controller, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + uid, UID: types.UID(uid), Controller: &controller, BlockOwnerDeletion: &block}
}

func pod(uid string, refs ...metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p-" + uid, Namespace: "default", UID: types.UID(uid), OwnerReferences: refs}}
}

func owner(uid string, finalizers ...string) *corev1.Pod {
	p := pod(uid)
	p.Finalizers = finalizers
	if len(finalizers) > 0 {
		now := metav1.Now()
		p.DeletionTimestamp = &now
	}
	return p
}

func ev(typ watch.EventType, obj, old apiserver.Object, client string) apiserver.Event {
	return apiserver.Event{Type: typ, Kind: apiserver.KindOf(obj), Object: obj, Old: old, Key: obj.GetNamespace() + "/" + obj.GetName(), Client: client}
}

// called sets when the event's request was sent.
func called(e apiserver.Event, at time.Duration) apiserver.Event {
	e.Called = at
	return e
}

func terminating(p *corev1.Pod) *corev1.Pod {
	q := p.DeepCopy()
	now := metav1.NewTime(time.Unix(1, 0))
	q.DeletionTimestamp = &now
	return q
}

// Each case is a sequence of commits a correct control plane never makes
// (a planted bug), and one a correct one makes; the first must fail, the
// second pass.
func TestInvariants(t *testing.T) {
	rsOwner := owner("rs")
	orphaning := owner("rs", metav1.FinalizerOrphanDependents)
	foreground := owner("rs", metav1.FinalizerDeleteDependents)
	dep := pod("d", ref("rs", true, true))
	released := pod("d")
	for _, tc := range []struct {
		name   string
		events []apiserver.Event
		want   string // "" for pass
	}{
		{"two controller owners", []apiserver.Event{ev(watch.Added, pod("x", ref("a", true, true), ref("b", true, true)), nil, "x")}, "has 2 controller owners"},
		{"one controller and one plain owner", []apiserver.Event{ev(watch.Added, pod("x", ref("a", true, true), ref("b", false, false)), nil, "x")}, ""},
		{"orphan delete that deletes a dependent", []apiserver.Event{
			ev(watch.Added, rsOwner, nil, "kubectl"), ev(watch.Added, dep, nil, "rs"),
			ev(watch.Modified, orphaning, rsOwner, "kubectl"),
			ev(watch.Modified, terminating(dep), dep, cluster.ClientGarbageCollector),
		}, "the garbage collector deleted Pod default/p-d, a dependent of Pod default/p-rs, which was deleted with propagationPolicy=Orphan"},
		{"orphan delete done right", []apiserver.Event{
			ev(watch.Added, rsOwner, nil, "kubectl"), ev(watch.Added, dep, nil, "rs"),
			ev(watch.Modified, orphaning, rsOwner, "kubectl"),
			ev(watch.Modified, released, dep, cluster.ClientGarbageCollector),
			ev(watch.Deleted, orphaning, orphaning, cluster.ClientGarbageCollector),
			ev(watch.Modified, terminating(released), released, "someone-else"),
		}, ""},
		{"foreground delete that removes the owner first", []apiserver.Event{
			ev(watch.Added, rsOwner, nil, "kubectl"), ev(watch.Added, dep, nil, "rs"),
			ev(watch.Modified, foreground, rsOwner, "kubectl"),
			ev(watch.Deleted, foreground, foreground, cluster.ClientGarbageCollector),
		}, "lost its foreground-deletion finalizer while its blocking dependents existed: [Pod default/p-d]"},
		{"foreground finalizer dropped early while another finalizer holds the owner", []apiserver.Event{
			ev(watch.Added, rsOwner, nil, "kubectl"), ev(watch.Added, dep, nil, "rs"),
			ev(watch.Modified, owner("rs", "example.com/hold", metav1.FinalizerDeleteDependents), rsOwner, "kubectl"),
			ev(watch.Modified, owner("rs", "example.com/hold"), owner("rs", "example.com/hold", metav1.FinalizerDeleteDependents), cluster.ClientGarbageCollector),
		}, "lost its foreground-deletion finalizer while its blocking dependents existed"},
		{"foreground delete done right", []apiserver.Event{
			ev(watch.Added, rsOwner, nil, "kubectl"), ev(watch.Added, dep, nil, "rs"),
			ev(watch.Modified, foreground, rsOwner, "kubectl"),
			ev(watch.Deleted, dep, dep, cluster.ClientGarbageCollector),
			ev(watch.Deleted, foreground, foreground, cluster.ClientGarbageCollector),
		}, ""},
		{"adopting a terminating pod", []apiserver.Event{
			ev(watch.Added, released, nil, "x"),
			ev(watch.Modified, terminating(released), released, "kubelet"),
			called(ev(watch.Modified, terminating(dep), terminating(released), "rs"), 10*time.Second),
		}, "Pod default/p-d was adopted by ReplicaSet rs-rs while it was being deleted (for 10s when the request was sent)"},
		{"adopting a pod deleted just after the controller looked (a race upstream has)", []apiserver.Event{
			ev(watch.Added, released, nil, "x"),
			ev(watch.Modified, terminating(released), released, "kubelet"),
			called(ev(watch.Modified, terminating(dep), terminating(released), "rs"), 2*time.Second),
		}, ""},
		{"adopting a live pod", []apiserver.Event{ev(watch.Added, released, nil, "x"), ev(watch.Modified, dep, released, "rs")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := newInvariants()
			for _, e := range tc.events {
				inv.Observe(e)
			}
			r := inv.Result()
			if tc.want == "" {
				assert.Equal(t, Pass, r.Verdict, r.Message)
			} else {
				assert.Equal(t, Fail, r.Verdict)
				assert.Contains(t, r.Message, tc.want)
			}
		})
	}
}
