package check

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// The workload invariants of Invariants.
//
// # Deployment rolling-update bounds
//
// For a Deployment with strategy RollingUpdate, maxSurge is resolved from a
// percentage of spec.replicas rounded up and maxUnavailable rounded down; if
// both are 0, maxUnavailable is 1 (upstream's ResolveFenceposts). Counted on
// every commit that touches the Deployment, one of its ReplicaSets
// (controller ownerReference uid) or one of their pods (likewise):
//
//   - pods: the active pods (no deletionTimestamp, phase neither Succeeded
//     nor Failed) of its ReplicaSets, except, per ReplicaSet, those above its
//     spec.replicas at the moment spec.replicas was last lowered and not gone
//     since (the pods the ReplicaSet controller is still to delete after a
//     scale-down: upstream bounds the sum of the ReplicaSets' spec.replicas,
//     and old pods lag behind it);
//   - available: the active pods among those that are Ready and, when
//     minReadySeconds > 0, have been since (the Ready condition's
//     lastTransitionTime + minReadySeconds at or before now, as
//     kube.IsPodAvailable; a zero time is never).
//
// A violation is pods > spec.replicas + maxSurge, or available <
// spec.replicas − maxUnavailable. Each side is armed separately: at a
// commit where its inequality holds, and it is checked only while armed.
// Both sides are disarmed
//
//   - when spec.replicas, the strategy (type, maxSurge, maxUnavailable as
//     written) or minReadySeconds change, and while the Deployment is paused,
//     being deleted, not RollingUpdate or has unresolvable bounds (a
//     scale-down leaves old pods still being deleted, a scale-up new pods
//     not yet available);
//   - while a fault is in force: FaultActive is asked at every commit of a
//     Deployment, ReplicaSet or pod, and while it says yes every Deployment
//     is disarmed, so after the fault the bounds must hold again before
//     they are checked (a fault whose own commits FaultActive does not
//     cover, an instant kill-pod say, is still caught as a disruptor,
//     below);
//   - when the Deployment adopts a ReplicaSet, or one of its ReplicaSets
//     adopts a pod (they come with whatever pods they have).
//
// The available side is also disarmed when a pod stops counting as
// available other than by being deleted (deletionTimestamp set, or removed
// from storage) by a controller: a readiness loss, a phase change, a
// release from its ReplicaSet or of its ReplicaSet from the Deployment, or a
// deletion by a disruptor (a kubelet, the node lifecycle and taint
// eviction, pod GC, the cluster, the scheduler, the garbage collector,
// kubectl or the fault injector). Without this, the kubelet and the node
// lifecycle would raise false alarms: a lost node makes its pods NotReady
// and taint eviction deletes them 300 s later, a crashing container or a
// failing probe makes a pod NotReady, a drain, a kubectl delete or the
// garbage collector deleting a ReplicaSet's pods takes available pods away;
// none is the Deployment controller's doing, and each can take a correct
// Deployment below spec.replicas − maxUnavailable. Such pods leave the
// surge side alone: terminating pods do not count, so outside deletions
// only lower pods. What remains checked is the controllers' own doing: the
// Deployment controller's scaling of its ReplicaSets and the ReplicaSet
// controller's creations and deletions (pods a ReplicaSet controller creates
// beyond its lowered spec.replicas, from a stale cache say, do count).
//
// The state kept: every ReplicaSet and every pod a ReplicaSet controls (a
// few words each, dropped when they are deleted), per Deployment its counts
// and the ready pods still short of minReadySeconds.
//
// # StatefulSet: at most one pod per ordinal identity
//
// A pod's identity is (namespace, controlling StatefulSet uid, ordinal),
// the controller ownerReference being of kind StatefulSet; the ordinal
// comes from the apps.kubernetes.io/pod-index label if present and valid,
// else from the name when it is <set name>-<n>, else from the numeric
// suffix of the statefulset.kubernetes.io/pod-name label. A violation is a
// pod object created, or changed into an identity (adoption, relabelling),
// while another pod object with that identity exists in storage,
// terminating or not.

// Client names of the actors whose pod changes are disruptions from outside
// the controllers (besides the kubelets, "kubelet/<node>", and the garbage
// collector, Invariants.GCClient): the workload's kubectl steps
// (workloads.Client) and the fault injector (faults.Client).
const (
	kubectlClient = "kubectl"
	chaosClient   = "chaos"
)

// disruptor reports whether a client is not a controller of the run: a
// kubelet, the node lifecycle and taint eviction, pod GC, the cluster itself,
// the scheduler, the garbage collector, kubectl or the fault injector.
func (inv *Invariants) disruptor(client string) bool {
	switch client {
	case cluster.ClientNodeLifecycle, cluster.ClientTaintEviction, cluster.ClientPodGC, cluster.ClientCluster,
		cluster.ClientScheduler, inv.GCClient, cluster.ClientGarbageCollector, kubectlClient, chaosClient:
		return true
	}
	return strings.HasPrefix(client, cluster.KubeletClient(""))
}

type workloadState struct {
	faulted bool // a fault is in force at this commit
	deps    map[types.UID]*depBounds
	rss     map[types.UID]*rsBounds
	pods    map[string]*podBounds // pods controlled by a known ReplicaSet, by key

	// StatefulSet identities: the pod objects (terminating ones too) holding each.
	holders  map[stsIdentity][]string
	identity map[string]stsIdentity // pod key → its identity
}

type depBounds struct {
	uid  types.UID
	name string // "Deployment ns/name"
	// The spec the bounds are for.
	replicas, surge, unavailable int32
	strategy                     string // type, maxSurge, maxUnavailable as written
	minReady                     time.Duration
	checked                      bool // RollingUpdate with valid bounds, not paused, not being deleted

	rss     map[types.UID]bool
	pods    int32                // active pods of its ReplicaSets, less their allowances
	avail   int32                // available pods
	pending map[string]time.Time // ready pods not yet available (minReadySeconds), by key → ready since
	due     time.Time            // no pending pod becomes available before (zero: none will)

	armSurge, armAvail bool
}

type rsBounds struct {
	ctl  types.UID // its controller's uid
	spec int32
	// desired: its deployment.kubernetes.io/desired-replicas annotation, the
	// Deployment size the controller last sized it for (-1: none).
	desired int32
	active  int32
	// allow: active pods above spec.replicas when spec.replicas was last
	// lowered, less those gone since: pods the ReplicaSet controller is
	// still to delete, not counted against maxSurge.
	allow int32
	pods  map[string]bool
}

func (r *rsBounds) counted() int32 { return r.active - r.allow }

type podBounds struct {
	rs            types.UID
	active, ready bool
	since         time.Time // the Ready condition's lastTransitionTime
	availDep      types.UID // the Deployment its readiness is counted in ("" none)
	counted       bool      // counted in availDep's avail (else pending there)
}

type stsIdentity struct {
	ns      string
	uid     types.UID
	ordinal int
}

func (inv *Invariants) workloads() *workloadState {
	if inv.wl == nil {
		inv.wl = &workloadState{deps: map[types.UID]*depBounds{}, rss: map[types.UID]*rsBounds{}, pods: map[string]*podBounds{},
			holders: map[stsIdentity][]string{}, identity: map[string]stsIdentity{}}
	}
	return inv.wl
}

// observeWorkloads checks the workload invariants on one commit.
func (inv *Invariants) observeWorkloads(ev apiserver.Event) {
	s := inv.workloads()
	switch obj := ev.Object.(type) {
	case *corev1.Pod:
		inv.observeStatefulPod(ev, obj)
	case *appsv1.Deployment, *appsv1.ReplicaSet:
	default:
		return
	}
	s.faulted = inv.FaultActive != nil && inv.FaultActive()
	if s.faulted {
		// Nothing is armed during a fault: after it, the bounds must hold
		// again before they are checked.
		for _, d := range s.deps {
			d.armSurge, d.armAvail = false, false
		}
	}
	now := inv.w.Now()
	var touched []*depBounds
	switch obj := ev.Object.(type) {
	case *appsv1.Deployment:
		touched = append(touched, inv.observeDeployment(ev, obj, now))
	case *appsv1.ReplicaSet:
		touched = inv.observeReplicaSet(ev, obj, now)
	case *corev1.Pod:
		touched = inv.observeDeploymentPod(ev, obj, now)
	}
	for i, d := range touched {
		if d != nil && !slices.Contains(touched[:i], d) {
			inv.checkBounds(d, now)
		}
	}
}

func (s *workloadState) depOf(rsUID types.UID) *depBounds {
	if r := s.rss[rsUID]; r != nil {
		return s.deps[r.ctl]
	}
	return nil
}

// checkBounds arms and checks one Deployment's bounds (see the top of the
// file).
func (inv *Invariants) checkBounds(d *depBounds, now time.Time) {
	s := inv.wl
	if s.faulted || !d.checked {
		d.armSurge, d.armAvail = false, false
		return
	}
	if !s.sized(d) {
		// A scaling event the controller has not yet carried into its
		// ReplicaSets: upstream sizes them from a cache that may not have
		// caught up, so the bounds hold again only once it has.
		d.armSurge, d.armAvail = false, false
		return
	}
	s.promote(d, now)
	switch {
	case d.pods <= d.replicas+d.surge:
		d.armSurge = true
	case d.armSurge:
		inv.fail("%s has %d pods, more than spec.replicas %d + maxSurge %d", d.name, d.pods, d.replicas, d.surge)
		d.armSurge = false
	}
	switch {
	case d.avail >= d.replicas-d.unavailable:
		d.armAvail = true
	case d.armAvail:
		inv.fail("%s has %d available pods, fewer than spec.replicas %d - maxUnavailable %d", d.name, d.avail, d.replicas, d.unavailable)
		d.armAvail = false
	}
}

// desiredReplicasAnnotation is where the Deployment controller writes, on
// each ReplicaSet, the Deployment size it sized the ReplicaSet for.
const desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"

// sized reports whether every ReplicaSet of the Deployment with replicas was
// last sized for its current spec.replicas (one without the annotation, from
// a controller that does not write it, counts as sized).
func (s *workloadState) sized(d *depBounds) bool {
	for uid := range d.rss {
		if r := s.rss[uid]; r != nil && r.spec > 0 && r.desired >= 0 && r.desired != d.replicas {
			return false
		}
	}
	return true
}

// promote counts the pending pods whose minReadySeconds have passed (a
// pass over them only once the earliest may have).
func (s *workloadState) promote(d *depBounds, now time.Time) {
	if d.due.IsZero() || now.Before(d.due) {
		return
	}
	d.due = time.Time{}
	for key, since := range d.pending {
		if availableSince(since, d.minReady, now) {
			delete(d.pending, key)
			s.pods[key].counted = true
			d.avail++
		} else {
			d.addDue(since)
		}
	}
}

// addDue lowers due to when a pod ready since then becomes available (never,
// for a zero time).
func (d *depBounds) addDue(since time.Time) {
	if since.IsZero() {
		return
	}
	if t := since.Add(d.minReady); d.due.IsZero() || t.Before(d.due) {
		d.due = t
	}
}

// availableSince is IsPodAvailable for a pod ready since then.
func availableSince(since time.Time, minReady time.Duration, now time.Time) bool {
	return kube.ReadyLongEnough(since, int32(minReady/time.Second), now)
}

// addAvail counts a pod's readiness in its Deployment, if it has one.
func (s *workloadState) addAvail(key string, p *podBounds, now time.Time) {
	d := s.depOf(p.rs)
	if d == nil || !p.active || !p.ready {
		return
	}
	p.availDep = d.uid
	if availableSince(p.since, d.minReady, now) {
		p.counted = true
		d.avail++
	} else {
		d.pending[key] = p.since
		d.addDue(p.since)
	}
}

// removeAvail takes a pod's readiness out of its Deployment's counts and
// returns the Deployment if the pod was counted available there.
func (s *workloadState) removeAvail(key string, p *podBounds) *depBounds {
	d := s.deps[p.availDep]
	wasCounted := p.counted
	p.availDep, p.counted = "", false
	if d == nil {
		return nil
	}
	if wasCounted {
		d.avail--
		return d
	}
	delete(d.pending, key)
	return nil
}

// addActive changes a ReplicaSet's active pods, and its Deployment's count.
func (s *workloadState) addActive(r *rsBounds, delta int32) {
	d := s.deps[r.ctl]
	c0 := r.counted()
	r.active += delta
	if delta < 0 {
		r.allow = min(r.allow, max(0, r.active-r.spec))
	}
	if d != nil {
		d.pods += r.counted() - c0
	}
}

func strategyString(d *appsv1.Deployment) string {
	st := d.Spec.Strategy
	out := string(st.Type)
	if ru := st.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			out += " surge=" + ru.MaxSurge.String()
		}
		if ru.MaxUnavailable != nil {
			out += " unavailable=" + ru.MaxUnavailable.String()
		}
	}
	return out
}

func (inv *Invariants) observeDeployment(ev apiserver.Event, obj *appsv1.Deployment, now time.Time) *depBounds {
	s := inv.wl
	d := s.deps[obj.UID]
	if ev.Type == watch.Deleted {
		if d != nil {
			for rs := range d.rss {
				for key := range s.rss[rs].pods {
					s.removeAvail(key, s.pods[key])
				}
			}
			delete(s.deps, obj.UID)
		}
		return nil
	}
	minReady := time.Duration(obj.Spec.MinReadySeconds) * time.Second
	if d == nil {
		d = &depBounds{uid: obj.UID, name: "Deployment " + obj.Namespace + "/" + obj.Name, rss: map[types.UID]bool{}, pending: map[string]time.Time{},
			minReady: minReady}
		s.deps[obj.UID] = d
		// ReplicaSets that name it already (none, unless a uid comes back).
		for uid, r := range s.rss {
			if r.ctl == obj.UID {
				d.rss[uid] = true
				d.pods += r.counted()
				for key := range r.pods {
					s.addAvail(key, s.pods[key], now)
				}
			}
		}
	}
	replicas := deref(obj.Spec.Replicas)
	strategy := strategyString(obj)
	checked := obj.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType && obj.Spec.Strategy.RollingUpdate != nil &&
		!obj.Spec.Paused && obj.DeletionTimestamp == nil
	var surge, unavailable int32
	if checked {
		var err error
		ru := obj.Spec.Strategy.RollingUpdate
		surge, unavailable, err = kube.ResolveFenceposts(ru.MaxSurge, ru.MaxUnavailable, replicas)
		checked = err == nil
	}
	if replicas != d.replicas || strategy != d.strategy || minReady != d.minReady || !checked {
		d.armSurge, d.armAvail = false, false
	}
	if minReady != d.minReady {
		d.minReady = minReady
		// Availability is counted again with the new minReadySeconds.
		for rs := range d.rss {
			for key := range s.rss[rs].pods {
				p := s.pods[key]
				s.removeAvail(key, p)
				s.addAvail(key, p, now)
			}
		}
	}
	d.replicas, d.strategy, d.checked, d.surge, d.unavailable = replicas, strategy, checked, surge, unavailable
	return d
}

func (inv *Invariants) observeReplicaSet(ev apiserver.Event, obj *appsv1.ReplicaSet, now time.Time) []*depBounds {
	s := inv.wl
	r := s.rss[obj.UID]
	var ctl types.UID
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil && ev.Type != watch.Deleted {
		ctl = ref.UID
	}
	if r == nil {
		if ev.Type == watch.Deleted {
			return nil
		}
		r = &rsBounds{pods: map[string]bool{}}
		s.rss[obj.UID] = r
	}
	r.desired = -1
	if v, ok := obj.Annotations[desiredReplicasAnnotation]; ok {
		if n, err := strconv.ParseInt(v, 10, 32); err == nil {
			r.desired = int32(n)
		}
	}
	var touched []*depBounds
	if r.ctl != ctl {
		// Released, adopted or deleted: its pods leave one Deployment's
		// counts and join another's.
		if old := s.deps[r.ctl]; old != nil {
			old.pods -= r.counted()
			delete(old.rss, obj.UID)
			lost := false
			for key := range r.pods {
				lost = s.removeAvail(key, s.pods[key]) != nil || lost
			}
			if lost {
				old.armAvail = false // available pods left it other than by the controller deleting them
			}
			touched = append(touched, old)
		}
		r.ctl = ctl
		if d := s.deps[ctl]; d != nil {
			d.pods += r.counted()
			d.rss[obj.UID] = true
			for key := range r.pods {
				s.addAvail(key, s.pods[key], now)
			}
			if ev.Type != watch.Added {
				d.armSurge, d.armAvail = false, false // adopted, with whatever pods it has
			}
		}
	}
	if ev.Type == watch.Deleted {
		for key := range r.pods {
			delete(s.pods, key)
		}
		delete(s.rss, obj.UID)
		return touched
	}
	if spec := deref(obj.Spec.Replicas); spec != r.spec {
		d := s.deps[r.ctl]
		c0 := r.counted()
		r.spec = spec
		r.allow = max(0, r.active-r.spec)
		if d != nil {
			d.pods += r.counted() - c0
		}
	}
	return append(touched, s.deps[r.ctl])
}

func readySince(p *corev1.Pod) (bool, time.Time) {
	return kube.IsPodReady(p), kube.PodReadySince(p)
}

func (inv *Invariants) observeDeploymentPod(ev apiserver.Event, pod *corev1.Pod, now time.Time) []*depBounds {
	s := inv.wl
	key := ev.Key
	old := s.pods[key]
	var cur *podBounds
	if ev.Type != watch.Deleted {
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil && s.rss[ref.UID] != nil {
			ready, since := readySince(pod)
			cur = &podBounds{rs: ref.UID, active: active(pod), ready: ready, since: since}
		}
	}
	if old == nil && cur == nil {
		return nil
	}
	var touched []*depBounds
	if old != nil {
		if d := s.deps[old.availDep]; d != nil {
			s.promote(d, now)
		}
		lostFrom := s.removeAvail(key, old)
		r := s.rss[old.rs]
		switch {
		case cur == nil || cur.rs != old.rs:
			if old.active {
				s.addActive(r, -1)
			}
			delete(r.pods, key)
		case old.active && !cur.active:
			s.addActive(r, -1)
		case !old.active && cur.active:
			s.addActive(r, 1)
		}
		touched = append(touched, s.deps[r.ctl])
		if cur != nil {
			s.addAvail(key, cur, now)
		}
		// A pod stops being available to its Deployment: the controller's
		// doing only if it is deleting the pod (a scale-down); a readiness
		// loss, a release or a deletion by a kubelet, node lifecycle,
		// eviction, pod GC, the garbage collector, kubectl or a fault is not
		// (the bound is disarmed until it holds again).
		if lostFrom != nil && (cur == nil || !cur.counted || cur.availDep != lostFrom.uid) {
			deleting := ev.Type == watch.Deleted || (pod.DeletionTimestamp != nil && ev.Old != nil && ev.Old.GetDeletionTimestamp() == nil)
			voluntary := deleting && !inv.disruptor(ev.Client) && (cur == nil || cur.rs == old.rs)
			if !voluntary {
				lostFrom.armAvail = false
			}
		}
	}
	if cur == nil {
		delete(s.pods, key)
		return touched
	}
	if old == nil || cur.rs != old.rs {
		r := s.rss[cur.rs]
		r.pods[key] = true
		if cur.active {
			s.addActive(r, 1)
		}
		if old == nil {
			s.addAvail(key, cur, now)
		}
		if d := s.deps[r.ctl]; d != nil {
			if ev.Type == watch.Modified {
				d.armSurge, d.armAvail = false, false // adopted
			}
			touched = append(touched, d)
		}
	}
	s.pods[key] = cur
	return touched
}

// statefulIdentity is a pod's identity under its controlling StatefulSet:
// the ordinal from the apps.kubernetes.io/pod-index label, else from the
// name <set>-<ordinal>, else from the statefulset.kubernetes.io/pod-name
// label's suffix.
func statefulIdentity(pod *corev1.Pod) (stsIdentity, string, bool) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "StatefulSet" {
		return stsIdentity{}, "", false
	}
	ord := -1
	if v, ok := pod.Labels[appsv1.PodIndexLabel]; ok {
		ord = parseOrdinal(v)
	}
	if ord < 0 {
		ord = ordinalOf(ref.Name, pod.Name)
	}
	if v, ok := pod.Labels[appsv1.StatefulSetPodNameLabel]; ok && ord < 0 {
		if i := strings.LastIndex(v, "-"); i >= 0 {
			ord = parseOrdinal(v[i+1:])
		}
	}
	if ord < 0 {
		return stsIdentity{}, "", false
	}
	return stsIdentity{ns: pod.Namespace, uid: ref.UID, ordinal: ord}, ref.Name, true
}

func (inv *Invariants) observeStatefulPod(ev apiserver.Event, pod *corev1.Pod) {
	s := inv.wl
	key := ev.Key
	old, had := s.identity[key]
	var cur stsIdentity
	var set string
	has := false
	if ev.Type != watch.Deleted {
		cur, set, has = statefulIdentity(pod)
	}
	if had && (!has || old != cur) {
		hs := s.holders[old]
		for i, k := range hs {
			if k == key {
				hs = append(hs[:i:i], hs[i+1:]...)
				break
			}
		}
		if len(hs) == 0 {
			delete(s.holders, old)
		} else {
			s.holders[old] = hs
		}
		delete(s.identity, key)
	}
	if !has || (had && old == cur) {
		return
	}
	if others := s.holders[cur]; len(others) > 0 {
		sorted := append([]string(nil), others...)
		sort.Strings(sorted)
		verb := "was created as"
		if ev.Type != watch.Added {
			verb = "became"
		}
		inv.fail("Pod %s %s ordinal %d of StatefulSet %s while Pod %s still exists", key, verb, cur.ordinal, set, sorted[0])
	}
	s.holders[cur] = append(s.holders[cur], key)
	s.identity[key] = cur
}
