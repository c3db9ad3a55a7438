package deployment

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/kube"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The pure arithmetic and bookkeeping of the controller: surge and
// unavailability bounds, the new ReplicaSet's size, proportional scaling, the
// pod-template hash and revisions. Exported so that the differential test
// (models/replicaset/upstreamdiff) can hold them against upstream's own
// functions in pkg/controller/deployment/util.

// Annotations the controller keeps on ReplicaSets (and the revision on the
// Deployment), as upstream.
const (
	RevisionAnnotation        = "deployment.kubernetes.io/revision"
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	MaxReplicasAnnotation     = "deployment.kubernetes.io/max-replicas"
	// revisionHistoryMaxChars bounds the revision-history annotation.
	revisionHistoryMaxChars = 2000
)

// Condition reasons, as upstream.
const (
	ReasonReplicaSetUpdated  = "ReplicaSetUpdated"
	ReasonFailedRSCreate     = "ReplicaSetCreateError"
	ReasonNewReplicaSet      = "NewReplicaSetCreated"
	ReasonFoundNewRS         = "FoundNewReplicaSet"
	ReasonNewRSAvailable     = "NewReplicaSetAvailable"
	ReasonTimedOut           = "ProgressDeadlineExceeded"
	ReasonPaused             = "DeploymentPaused"
	ReasonResumed            = "DeploymentResumed"
	ReasonMinimumAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumUnavailable = "MinimumReplicasUnavailable"
	// Event reasons.
	reasonRollbackNotFound  = "DeploymentRollbackRevisionNotFound"
	reasonRollbackUnchanged = "DeploymentRollbackTemplateUnchanged"
	reasonRollbackDone      = "DeploymentRollback"
	reasonScalingReplicaSet = "ScalingReplicaSet"
	reasonSelectingAll      = "SelectingAll"
)

const (
	deprecatedRollbackToKey   = appsv1.DeprecatedRollbackTo
	podTemplateHashLabel      = appsv1.DefaultDeploymentUniqueLabelKey
	lastAppliedConfigurations = corev1.LastAppliedConfigAnnotation
)

func isRolling(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType
}

func replicasOf(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func specOf(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

func fenceposts(d *appsv1.Deployment) (int32, int32) {
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil {
		ru = &appsv1.RollingUpdateDeployment{}
	}
	s, u, _ := kube.ResolveFenceposts(ru.MaxSurge, ru.MaxUnavailable, replicasOf(d)) // validation rejects the errors
	return s, u
}

// MaxSurge is how many pods a RollingUpdate Deployment may run above
// spec.replicas (0 for Recreate).
func MaxSurge(d *appsv1.Deployment) int32 {
	if !isRolling(d) {
		return 0
	}
	s, _ := fenceposts(d)
	return s
}

// MaxUnavailable is how many of spec.replicas a RollingUpdate Deployment may
// have unavailable, at most spec.replicas (0 for Recreate or 0 replicas).
func MaxUnavailable(d *appsv1.Deployment) int32 {
	if !isRolling(d) || replicasOf(d) == 0 {
		return 0
	}
	_, u := fenceposts(d)
	return min(u, replicasOf(d))
}

func sumSpec(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += specOf(rs)
		}
	}
	return n
}

// NewRSReplicas is the size the new ReplicaSet may grow to now: for
// RollingUpdate, up to spec.replicas + maxSurge pods over all ReplicaSets
// (specs), and never above spec.replicas; for Recreate, spec.replicas.
func NewRSReplicas(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (int32, error) {
	switch d.Spec.Strategy.Type {
	case appsv1.RollingUpdateDeploymentStrategyType:
		var surgeSpec *intstr.IntOrString
		if d.Spec.Strategy.RollingUpdate != nil {
			surgeSpec = d.Spec.Strategy.RollingUpdate.MaxSurge
		}
		if surgeSpec == nil {
			zero := intstr.FromInt32(0)
			surgeSpec = &zero
		}
		surge, err := intstr.GetScaledValueFromIntOrPercent(surgeSpec, int(replicasOf(d)), true)
		if err != nil {
			return 0, err
		}
		ceiling := replicasOf(d) + int32(surge)
		total := sumSpec(allRSs)
		if total >= ceiling {
			return specOf(newRS), nil
		}
		return specOf(newRS) + min(ceiling-total, replicasOf(d)-specOf(newRS)), nil
	case appsv1.RecreateDeploymentStrategyType:
		return replicasOf(d), nil
	}
	return 0, fmt.Errorf("deployment type %v isn't supported", d.Spec.Strategy.Type)
}

// annotationInt32 reads a non-negative int32 annotation.
func annotationInt32(rs *appsv1.ReplicaSet, key string) (int32, bool) {
	v, ok := rs.Annotations[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > math.MaxInt32 {
		return 0, false
	}
	return int32(n), true
}

// roundHalfAway rounds to the nearest integer, halves away from zero, the way
// upstream's integer.RoundToInt32 does (truncating x ± 0.5).
func roundHalfAway(x float64) int32 {
	if x < 0 {
		return int32(x - 0.5)
	}
	return int32(x + 0.5)
}

// fraction is the change a ReplicaSet's size takes when its Deployment goes
// from the max-replicas it recorded (spec + surge at its last scaling) to
// today's spec + surge: its size scaled by the ratio, rounded, less its size.
// To 0 replicas it gives up everything.
func fraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	if replicasOf(d) == 0 {
		return -specOf(rs)
	}
	after := replicasOf(d) + MaxSurge(d)
	before, ok := annotationInt32(rs, MaxReplicasAnnotation)
	if !ok || before == 0 {
		// No usable record: fall back to the Deployment's current size.
		before = d.Status.Replicas
		if before == 0 {
			return 0
		}
	}
	size := specOf(rs)
	// int32 product, as upstream (it wraps past 2^31).
	return roundHalfAway(float64(size*after)/float64(before)) - size
}

// Proportion is the share of toAdd (negative: to remove) that a ReplicaSet
// takes in proportional scaling, given that added has been handed out to the
// ReplicaSets before it: its fraction, but never beyond what is left. An empty
// ReplicaSet takes nothing.
func Proportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if rs == nil || specOf(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	f := fraction(rs, d)
	left := toAdd - added
	if toAdd > 0 {
		return min(f, left)
	}
	return max(f, left)
}

// ScaleTarget is one ReplicaSet's size after a scaling event. Force writes the
// ReplicaSet even if its size stays (to refresh the replica annotations).
type ScaleTarget struct {
	RS       *appsv1.ReplicaSet
	Replicas int32
	Force    bool
}

func active(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && specOf(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// olderThan orders ReplicaSets by creation, then name.
func olderThan(a, b *appsv1.ReplicaSet) bool {
	if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.Name < b.Name
	}
	return a.CreationTimestamp.Before(&b.CreationTimestamp)
}

func byAge(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool { return olderThan(rss[i], rss[j]) })
}

// newestFirst orders ReplicaSets from the newest (creation, then name,
// both descending).
func newestFirst(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := append([]*appsv1.ReplicaSet(nil), rss...)
	sort.SliceStable(out, func(i, j int) bool { return olderThan(out[j], out[i]) })
	return out
}

// activeOrLatest is the only active ReplicaSet, or with none active the new
// one, else the newest old one; nil when several are active. oldRSs must be
// newest first.
func activeOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	all := active(append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS))
	switch len(all) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return oldRSs[0]
	case 1:
		return all[0]
	}
	return nil
}

// saturated: the new ReplicaSet holds all of spec.replicas, knows it (its
// desired-replicas annotation), and all are available.
func saturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, err := strconv.Atoi(rs.Annotations[DesiredReplicasAnnotation])
	if err != nil {
		return false
	}
	return specOf(rs) == replicasOf(d) && int32(desired) == replicasOf(d) && rs.Status.AvailableReplicas == replicasOf(d)
}

// ScalePlan is what a scaling event (spec.replicas changed, or the Deployment
// is paused) does to the ReplicaSets, in the order the writes are made:
//
//   - at most one active ReplicaSet (or none: the new one, else the newest
//     old one) takes spec.replicas;
//   - a saturated new ReplicaSet leaves every active old one at 0 (newest
//     first);
//   - otherwise, for RollingUpdate, spec.replicas + maxSurge less the active
//     ReplicaSets' sizes is spread over them in proportion to their sizes
//     (largest first; newer first when adding, older first when removing), the
//     rounding leftover going to the first, and each is written (Force).
//
// Recreate Deployments with several active ReplicaSets are left as they are.
// With newestOnly the whole difference goes to the newest active ReplicaSets
// instead (the named variant that ignores proportions).
func ScalePlan(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, newestOnly bool) []ScaleTarget {
	// Upstream looks at the old ReplicaSets newest first from here on (its
	// FindActiveOrLatest sorts them so, in place): a saturated new
	// ReplicaSet scales them to 0 in that order.
	oldRSs = newestFirst(oldRSs)
	if rs := activeOrLatest(newRS, oldRSs); rs != nil {
		if specOf(rs) == replicasOf(d) {
			return nil
		}
		return []ScaleTarget{{RS: rs, Replicas: replicasOf(d)}}
	}
	if saturated(d, newRS) {
		var out []ScaleTarget
		for _, rs := range active(oldRSs) {
			out = append(out, ScaleTarget{RS: rs, Replicas: 0})
		}
		return out
	}
	if !isRolling(d) {
		return nil
	}
	all := active(append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS))
	allowed := int32(0)
	if replicasOf(d) > 0 {
		allowed = replicasOf(d) + MaxSurge(d)
	}
	toAdd := allowed - sumSpec(all)
	if newestOnly {
		return newestOnlyPlan(all, toAdd)
	}
	switch {
	case toAdd > 0: // largest first, newer first among equals
		sort.SliceStable(all, func(i, j int) bool {
			if specOf(all[i]) != specOf(all[j]) {
				return specOf(all[i]) > specOf(all[j])
			}
			return olderThan(all[j], all[i])
		})
	case toAdd < 0: // largest first, older first among equals
		sort.SliceStable(all, func(i, j int) bool {
			if specOf(all[i]) != specOf(all[j]) {
				return specOf(all[i]) > specOf(all[j])
			}
			return olderThan(all[i], all[j])
		})
	}
	sizes := make([]int32, len(all))
	var added int32
	for i, rs := range all {
		sizes[i] = specOf(rs)
		if toAdd != 0 {
			p := Proportion(rs, d, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	if toAdd != 0 && len(all) > 0 {
		sizes[0] = max(0, sizes[0]+toAdd-added)
	}
	out := make([]ScaleTarget, len(all))
	for i, rs := range all {
		out[i] = ScaleTarget{RS: rs, Replicas: sizes[i], Force: true}
	}
	return out
}

// newestOnlyPlan puts the whole difference on the newest active ReplicaSets:
// all of an increase on the newest, a decrease taken from the newest down.
func newestOnlyPlan(all []*appsv1.ReplicaSet, toAdd int32) []ScaleTarget {
	sort.SliceStable(all, func(i, j int) bool { return olderThan(all[j], all[i]) })
	out := make([]ScaleTarget, len(all))
	for i, rs := range all {
		size := specOf(rs)
		switch {
		case toAdd > 0 && i == 0:
			size += toAdd
		case toAdd < 0:
			take := min(size, -toAdd)
			size -= take
			toAdd += take
		}
		out[i] = ScaleTarget{RS: rs, Replicas: size, Force: true}
	}
	return out
}

// Revision is a ReplicaSet's revision annotation (0 when absent).
func Revision(rs *appsv1.ReplicaSet) (int64, error) {
	v, ok := rs.Annotations[RevisionAnnotation]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var out int64
	for _, rs := range rss {
		if v, err := Revision(rs); err == nil && v > out {
			out = v
		}
	}
	return out
}

// lastRevision is the second highest revision (the one before the current).
func lastRevision(rss []*appsv1.ReplicaSet) int64 {
	var top, second int64
	for _, rs := range rss {
		if rs == nil {
			continue
		}
		v, err := Revision(rs)
		switch {
		case err != nil:
		case v >= top:
			second, top = top, v
		case v > second:
			second = v
		}
	}
	return second
}
