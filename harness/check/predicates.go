package check

import (
	"fmt"
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// All combines predicates: every one must hold; the first failing one says why.
func All(preds ...Predicate) Predicate { return all(preds) }

type all []Predicate

func (a all) Observe(ev apiserver.Event) {
	for _, p := range a {
		p.Observe(ev)
	}
}

func (a all) Holds() (bool, string) {
	for _, p := range a {
		if ok, why := p.Holds(); !ok {
			return false, why
		}
	}
	return true, ""
}

// ReplicaSets is the desired state of every ReplicaSet and
// ReplicationController (Anvil's ESR predicate for the ReplicaSet): the
// owned, selector-matching, non-terminating pods number spec.replicas;
// status.replicas equals spec.replicas at the current observedGeneration; no
// matching pod is an orphan. Owners being deleted are skipped. It keeps counts
// as changes commit, so asking costs O(owners + orphans), not O(pods).
func ReplicaSets() Predicate {
	return &replicaSets{owners: map[types.UID]*rsOwner{}, pods: map[string]*corev1.Pod{},
		byOwner: map[types.UID]map[string]bool{}, orphans: map[string]bool{}}
}

type replicaSets struct {
	owners  map[types.UID]*rsOwner
	pods    map[string]*corev1.Pod
	byOwner map[types.UID]map[string]bool // pods by controller uid
	orphans map[string]bool               // active pods without a controller
}

type rsOwner struct {
	kind          apiserver.Kind
	ns, name      string
	sel           labels.Selector
	selKey        string
	spec, status  int32
	gen, observed int64
	deleting      bool
	count         int32 // owned, active, matching pods
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

func active(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// counts reports whether pod counts toward an owner, and which.
func (r *replicaSets) counts(p *corev1.Pod) (types.UID, bool) {
	if p == nil || !active(p) {
		return "", false
	}
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil {
		return "", false
	}
	o := r.owners[ref.UID]
	if o == nil || o.ns != p.Namespace || !o.sel.Matches(labels.Set(p.Labels)) {
		return "", false
	}
	return ref.UID, true
}

func (r *replicaSets) Observe(ev apiserver.Event) {
	switch obj := ev.Object.(type) {
	case *corev1.Pod:
		r.observePod(ev.Type, obj)
	case *appsv1.ReplicaSet:
		sel, err := metav1.LabelSelectorAsSelector(obj.Spec.Selector)
		if err != nil {
			sel = labels.Nothing()
		}
		r.observeOwner(ev.Type, obj.UID, &rsOwner{kind: apiserver.ReplicaSets, ns: obj.Namespace, name: obj.Name, sel: sel,
			spec: deref(obj.Spec.Replicas), status: obj.Status.Replicas, gen: obj.Generation, observed: obj.Status.ObservedGeneration,
			deleting: obj.DeletionTimestamp != nil})
	case *corev1.ReplicationController:
		r.observeOwner(ev.Type, obj.UID, &rsOwner{kind: apiserver.ReplicationControllers, ns: obj.Namespace, name: obj.Name,
			sel: labels.SelectorFromSet(obj.Spec.Selector), spec: deref(obj.Spec.Replicas), status: obj.Status.Replicas,
			gen: obj.Generation, observed: obj.Status.ObservedGeneration, deleting: obj.DeletionTimestamp != nil})
	}
}

func deref(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func (r *replicaSets) observePod(typ watch.EventType, p *corev1.Pod) {
	key := podKey(p)
	old := r.pods[key]
	if uid, ok := r.counts(old); ok {
		r.owners[uid].count--
	}
	if old != nil {
		if ref := metav1.GetControllerOfNoCopy(old); ref != nil {
			delete(r.byOwner[ref.UID], key)
		}
	}
	delete(r.orphans, key)
	if typ == watch.Deleted {
		delete(r.pods, key)
		return
	}
	r.pods[key] = p
	ref := metav1.GetControllerOfNoCopy(p)
	switch {
	case ref != nil:
		set := r.byOwner[ref.UID]
		if set == nil {
			set = map[string]bool{}
			r.byOwner[ref.UID] = set
		}
		set[key] = true
	case active(p):
		r.orphans[key] = true
	}
	if uid, ok := r.counts(p); ok {
		r.owners[uid].count++
	}
}

func (r *replicaSets) observeOwner(typ watch.EventType, uid types.UID, o *rsOwner) {
	if typ == watch.Deleted {
		delete(r.owners, uid)
		return
	}
	o.selKey = o.sel.String()
	prev := r.owners[uid]
	r.owners[uid] = o
	if prev != nil && prev.selKey == o.selKey {
		o.count = prev.count
		return
	}
	// A new owner, or a new selector: count its pods again.
	o.count = 0
	for key := range r.byOwner[uid] {
		if _, ok := r.counts(r.pods[key]); ok {
			o.count++
		}
	}
}

func (r *replicaSets) Holds() (bool, string) {
	if len(r.owners) == 0 {
		return true, ""
	}
	owners := make([]*rsOwner, 0, len(r.owners))
	for _, o := range r.owners {
		if !o.deleting {
			owners = append(owners, o)
		}
	}
	sort.Slice(owners, func(i, j int) bool {
		a, b := owners[i], owners[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		return a.name < b.name
	})
	for _, o := range owners {
		switch {
		case o.count != o.spec:
			return false, fmt.Sprintf("%s %s/%s has %d pods, wants %d", o.kind, o.ns, o.name, o.count, o.spec)
		case o.status != o.spec:
			return false, fmt.Sprintf("%s %s/%s status.replicas is %d, wants %d", o.kind, o.ns, o.name, o.status, o.spec)
		case o.observed != o.gen:
			return false, fmt.Sprintf("%s %s/%s observedGeneration %d is behind generation %d", o.kind, o.ns, o.name, o.observed, o.gen)
		}
	}
	if len(r.orphans) > 0 {
		keys := make([]string, 0, len(r.orphans))
		for k := range r.orphans {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := r.pods[k]
			for _, o := range owners {
				if o.ns == p.Namespace && o.sel.Matches(labels.Set(p.Labels)) {
					return false, fmt.Sprintf("pod %s matches %s %s/%s but has no owner", k, o.kind, o.ns, o.name)
				}
			}
		}
	}
	return true, ""
}
