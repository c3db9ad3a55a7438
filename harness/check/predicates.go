package check

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
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
func ReplicaSets() *ReplicaSetTracker {
	return &ReplicaSetTracker{owners: map[types.UID]*rsOwner{}, pods: map[string]*corev1.Pod{},
		byOwner: map[types.UID]map[string]bool{}, orphans: map[string]bool{}}
}

// ReplicaSetTracker follows every ReplicaSet and ReplicationController and
// the pods they own. It is the ReplicaSets predicate, and it measures as it
// goes: the most pods above and below spec.replicas at any instant, and how
// long some owner had fewer ready pods than it wants.
type ReplicaSetTracker struct {
	owners  map[types.UID]*rsOwner
	pods    map[string]*corev1.Pod
	byOwner map[types.UID]map[string]bool // pods by controller uid
	orphans map[string]bool               // active pods without a controller

	// Clock, when set, lets the tracker measure BelowDesired and keep a
	// time series of every owner's replica counts (Series).
	Clock      func() time.Duration
	series     map[string][]Sample
	metrics    ReplicaMetrics
	belowSince time.Duration
	below      bool
}

// Sample is an owner's replica counts from time T on.
type Sample struct {
	T       time.Duration
	Desired int32 // spec.replicas
	Current int32 // active owned pods
	Ready   int32
}

// Series are the replica counts of each owner over time, by "Kind/ns/name",
// one sample per change.
func (r *ReplicaSetTracker) Series() map[string][]Sample { return r.series }

// ReplicaMetrics are the replica counts' extremes over a run.
type ReplicaMetrics struct {
	// MaxOvershoot: the most active pods an owner had above its
	// spec.replicas right after one of its pods was created: a controller
	// that creates more than asked for. (A scale-down leaves surplus pods too,
	// until they are deleted; that is not counted. Nor is a create sent
	// before a scale-down committed, measured against the lower spec: the
	// controller could not have known.)
	MaxOvershoot int `json:"maxOvershoot"`
	// MaxUndershoot: the most missing pods (spec.replicas above active owned
	// pods), summed over owners, at any instant.
	MaxUndershoot int `json:"maxUndershoot"`
	// BelowDesired: the virtual time during which some owner had fewer ready
	// pods than spec.replicas.
	BelowDesired time.Duration `json:"-"`
}

// Metrics are the measurements so far (BelowDesired up to now).
func (r *ReplicaSetTracker) Metrics() ReplicaMetrics {
	m := r.metrics
	if r.below && r.Clock != nil {
		m.BelowDesired += r.Clock() - r.belowSince
	}
	return m
}

// measure updates the extremes after a change.
func (r *ReplicaSetTracker) measure() {
	under, below := 0, false
	for _, o := range r.owners {
		if r.Clock != nil {
			r.sample(o)
		}
		if o.deleting {
			continue
		}
		under += max(0, int(o.spec-o.count))
		below = below || o.ready < o.spec
	}
	r.metrics.MaxUndershoot = max(r.metrics.MaxUndershoot, under)
	if r.Clock == nil || below == r.below {
		return
	}
	now := r.Clock()
	if below {
		r.belowSince = now
	} else {
		r.metrics.BelowDesired += now - r.belowSince
	}
	r.below = below
}

type rsOwner struct {
	kind          apiserver.Kind
	ns, name      string
	sel           labels.Selector
	selKey        string
	spec, status  int32
	prevSpec      int32         // spec.replicas before its last change
	specSince     time.Duration // when spec.replicas last changed (Clock)
	gen, observed int64
	deleting      bool
	count         int32 // owned, active, matching pods
	ready         int32 // of which ready
	unmatched     int32 // owned, active pods its selector no longer matches (not yet released)
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

func active(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// ownerOf is the known owner of an active pod (nil if none), and whether the
// owner's selector still matches the pod.
func (r *ReplicaSetTracker) ownerOf(p *corev1.Pod) (*rsOwner, bool) {
	if p == nil || !active(p) {
		return nil, false
	}
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil {
		return nil, false
	}
	o := r.owners[ref.UID]
	if o == nil || o.ns != p.Namespace {
		return nil, false
	}
	return o, o.sel.Matches(labels.Set(p.Labels))
}

// tally adds (sign 1) or takes away (sign -1) a pod's part in its owner's
// counts: matching pods count (and ready ones), others are unmatched.
func (r *ReplicaSetTracker) tally(p *corev1.Pod, sign int32) *rsOwner {
	o, matches := r.ownerOf(p)
	switch {
	case o == nil:
		return nil
	case !matches:
		o.unmatched += sign
		return nil
	}
	o.count += sign
	if podReady(p) {
		o.ready += sign
	}
	return o
}

func (r *ReplicaSetTracker) Observe(ev apiserver.Event) {
	defer r.measure()
	switch obj := ev.Object.(type) {
	case *corev1.Pod:
		r.observePod(ev.Type, obj, ev.Called)
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

func (r *ReplicaSetTracker) observePod(typ watch.EventType, p *corev1.Pod, called time.Duration) {
	key := podKey(p)
	old := r.pods[key]
	r.tally(old, -1)
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
	if o := r.tally(p, 1); o != nil && typ == watch.Added {
		limit := o.spec
		if called < o.specSince {
			limit = max(limit, o.prevSpec) // sent before the spec came down
		}
		r.metrics.MaxOvershoot = max(r.metrics.MaxOvershoot, int(o.count-limit))
	}
}

func (r *ReplicaSetTracker) sample(o *rsOwner) {
	if r.series == nil {
		r.series = map[string][]Sample{}
	}
	key := string(o.kind) + "/" + o.ns + "/" + o.name
	s := r.series[key]
	if n := len(s); n > 0 && s[n-1].Desired == o.spec && s[n-1].Current == o.count && s[n-1].Ready == o.ready {
		return
	}
	r.series[key] = append(s, Sample{T: r.Clock(), Desired: o.spec, Current: o.count, Ready: o.ready})
}

func podReady(p *corev1.Pod) bool { return kube.IsPodReady(p) }

func (r *ReplicaSetTracker) observeOwner(typ watch.EventType, uid types.UID, o *rsOwner) {
	if typ == watch.Deleted {
		delete(r.owners, uid)
		return
	}
	o.selKey = o.sel.String()
	prev := r.owners[uid]
	r.owners[uid] = o
	if prev != nil {
		o.prevSpec, o.specSince = prev.prevSpec, prev.specSince
		if prev.spec != o.spec {
			o.prevSpec = prev.spec
			if r.Clock != nil {
				o.specSince = r.Clock()
			}
		}
	}
	if prev != nil && prev.selKey == o.selKey {
		o.count, o.ready, o.unmatched = prev.count, prev.ready, prev.unmatched
		return
	}
	// A new owner, or a new selector: count its pods again.
	o.count, o.ready, o.unmatched = 0, 0, 0
	for key := range r.byOwner[uid] {
		r.tally(r.pods[key], 1)
	}
}

func (r *ReplicaSetTracker) Holds() (bool, string) {
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
		case o.unmatched > 0:
			return false, fmt.Sprintf("%s %s/%s still owns %d pods its selector no longer matches", o.kind, o.ns, o.name, o.unmatched)
		}
	}
	if len(r.orphans) > 0 {
		keys := slices.Sorted(maps.Keys(r.orphans))
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
