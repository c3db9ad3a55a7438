package check

import (
	"fmt"
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Deployments is the desired state of every Deployment that is not being
// deleted (what upstream's controller settles on, §4 of the reference):
//
//   - status.observedGeneration == metadata.generation;
//   - not paused: the new ReplicaSet — the oldest (creationTimestamp, then
//     name) ReplicaSet of its namespace the Deployment controls (controller
//     ownerReference of kind Deployment, by uid) whose pod template equals
//     the Deployment's ignoring the pod-template-hash label
//     (equality.Semantic) — exists, is not being deleted, has spec.replicas
//     == the Deployment's spec.replicas (default 1) and
//     status.availableReplicas == that; every other controlled
//     ReplicaSet has spec.replicas 0 and status.replicas 0; the old ones not
//     being deleted number at most revisionHistoryLimit (default 10); the
//     Deployment's status.replicas, updatedReplicas and availableReplicas
//     equal spec.replicas;
//   - paused: the controlled ReplicaSets' spec.replicas sum to spec.replicas
//     when at most one of them has replicas; with several (paused
//     mid-rollout), upstream scales them proportionally to spec.replicas +
//     maxSurge (RollingUpdate; 0 when spec.replicas is 0) and leaves them
//     there, so that is the sum wanted (no sum is wanted of a Recreate
//     Deployment with several).
//
// Each Deployment's verdict is recomputed only after a change to it or to a
// ReplicaSet it controls; whether a template matches is kept while neither
// generation changes (the API server bumps metadata.generation on every
// spec change).
func Deployments() Predicate {
	return &deploymentPred{deps: map[types.UID]*appsv1.Deployment{}, rss: map[types.UID]*deployRS{},
		byDep: map[types.UID]map[types.UID]*deployRS{}, verdicts: newVerdictCache()}
}

type deploymentPred struct {
	deps     map[types.UID]*appsv1.Deployment
	rss      map[types.UID]*deployRS               // every ReplicaSet with a Deployment controller reference
	byDep    map[types.UID]map[types.UID]*deployRS // by that reference's uid (the Deployment may be gone)
	verdicts *verdictCache
}

type deployRS struct {
	rs  *appsv1.ReplicaSet
	dep types.UID // its controller reference's uid
	// Whether its template equals the Deployment's, for the generations
	// (both > 0) it was computed at.
	eq           bool
	eqGen, dGen  int64
	eqComputed   bool
	creationTime metav1.Time
}

func (p *deploymentPred) Observe(ev apiserver.Event) {
	switch obj := ev.Object.(type) {
	case *appsv1.Deployment:
		observeOwner(p.deps, p.verdicts, ev, obj)
	case *appsv1.ReplicaSet:
		prev := p.rss[obj.UID]
		if prev != nil {
			delete(p.byDep[prev.dep], obj.UID)
			if len(p.byDep[prev.dep]) == 0 {
				delete(p.byDep, prev.dep)
			}
			delete(p.rss, obj.UID)
			p.verdicts.touch(prev.dep)
		}
		if ev.Type == watch.Deleted {
			return
		}
		ref := metav1.GetControllerOfNoCopy(obj)
		if ref == nil || ref.Kind != string(apiserver.Deployments) {
			return
		}
		e := &deployRS{rs: obj, dep: ref.UID, creationTime: obj.CreationTimestamp}
		if prev != nil && prev.dep == ref.UID && prev.eqComputed && obj.Generation > 0 && obj.Generation == prev.eqGen {
			e.eq, e.eqGen, e.dGen, e.eqComputed = prev.eq, prev.eqGen, prev.dGen, true
		}
		p.rss[obj.UID] = e
		if p.byDep[ref.UID] == nil {
			p.byDep[ref.UID] = map[types.UID]*deployRS{}
		}
		p.byDep[ref.UID][obj.UID] = e
		p.verdicts.touch(ref.UID)
	}
}

func (p *deploymentPred) Holds() (bool, string) { return p.verdicts.holds(p.eval) }

// matches reports whether the ReplicaSet's template equals the Deployment's,
// ignoring pod-template-hash (cached per pair of generations).
func (p *deploymentPred) matches(d *appsv1.Deployment, e *deployRS) bool {
	if e.eqComputed && d.Generation > 0 && e.rs.Generation > 0 && e.dGen == d.Generation && e.eqGen == e.rs.Generation {
		return e.eq
	}
	e.eq = kube.EqualIgnoreHash(&d.Spec.Template, &e.rs.Spec.Template)
	e.eqGen, e.dGen, e.eqComputed = e.rs.Generation, d.Generation, true
	return e.eq
}

// maxSurge of a RollingUpdate Deployment (0 for Recreate or an invalid value).
func maxSurge(d *appsv1.Deployment) int32 {
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate == nil {
		return 0
	}
	s, _, err := kube.ResolveFenceposts(d.Spec.Strategy.RollingUpdate.MaxSurge, d.Spec.Strategy.RollingUpdate.MaxUnavailable, deref(d.Spec.Replicas))
	if err != nil {
		return 0
	}
	return s
}

func (p *deploymentPred) eval(uid types.UID) (bool, string) {
	d := p.deps[uid]
	name := "Deployment " + d.Namespace + "/" + d.Name
	if d.Status.ObservedGeneration != d.Generation {
		return false, fmt.Sprintf("%s observedGeneration %d is behind generation %d", name, d.Status.ObservedGeneration, d.Generation)
	}
	want := deref(d.Spec.Replicas)
	owned := make([]*deployRS, 0, len(p.byDep[uid]))
	for _, e := range p.byDep[uid] {
		if e.rs.Namespace == d.Namespace {
			owned = append(owned, e)
		}
	}
	sort.Slice(owned, func(i, j int) bool {
		a, b := owned[i], owned[j]
		if !a.creationTime.Equal(&b.creationTime) {
			return a.creationTime.Before(&b.creationTime)
		}
		return a.rs.Name < b.rs.Name
	})
	if d.Spec.Paused {
		var sum int32
		active := 0
		for _, e := range owned {
			n := deref(e.rs.Spec.Replicas)
			sum += n
			if n > 0 {
				active++
			}
		}
		wantSum := want
		switch {
		case active <= 1:
		case d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType:
			return true, ""
		case want > 0:
			wantSum = want + maxSurge(d)
		}
		if sum != wantSum {
			return false, fmt.Sprintf("%s is paused and its ReplicaSets have %d replicas, wants %d", name, sum, wantSum)
		}
		return true, ""
	}
	var newRS *deployRS
	for _, e := range owned {
		if p.matches(d, e) {
			newRS = e
			break
		}
	}
	if newRS == nil {
		return false, fmt.Sprintf("%s has no ReplicaSet with its pod template", name)
	}
	rs := newRS.rs
	switch {
	case rs.DeletionTimestamp != nil:
		return false, fmt.Sprintf("%s: its new ReplicaSet %s is being deleted", name, rs.Name)
	case deref(rs.Spec.Replicas) != want:
		return false, fmt.Sprintf("%s: its new ReplicaSet %s has spec.replicas %d, wants %d", name, rs.Name, deref(rs.Spec.Replicas), want)
	case rs.Status.AvailableReplicas != want:
		return false, fmt.Sprintf("%s: its new ReplicaSet %s has %d available replicas, wants %d", name, rs.Name, rs.Status.AvailableReplicas, want)
	}
	old := 0
	for _, e := range owned {
		if e == newRS {
			continue
		}
		if n := deref(e.rs.Spec.Replicas); n != 0 || e.rs.Status.Replicas != 0 {
			return false, fmt.Sprintf("%s: its old ReplicaSet %s has spec.replicas %d and status.replicas %d, wants 0", name, e.rs.Name, n, e.rs.Status.Replicas)
		}
		if e.rs.DeletionTimestamp == nil {
			old++
		}
	}
	limit := int32(10)
	if d.Spec.RevisionHistoryLimit != nil {
		limit = *d.Spec.RevisionHistoryLimit
	}
	if int32(old) > limit {
		return false, fmt.Sprintf("%s has %d old ReplicaSets, more than its revisionHistoryLimit %d", name, old, limit)
	}
	st := d.Status
	switch {
	case st.Replicas != want:
		return false, fmt.Sprintf("%s status.replicas is %d, wants %d", name, st.Replicas, want)
	case st.UpdatedReplicas != want:
		return false, fmt.Sprintf("%s status.updatedReplicas is %d, wants %d", name, st.UpdatedReplicas, want)
	case st.AvailableReplicas != want:
		return false, fmt.Sprintf("%s status.availableReplicas is %d, wants %d", name, st.AvailableReplicas, want)
	}
	return true, ""
}
