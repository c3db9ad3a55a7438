package check

import (
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// HPAs is the desired state of every HorizontalPodAutoscaler (autoscaling/v2,
// the version the API server serves) that is not being deleted. Its target
// is the Deployment, ReplicaSet, ReplicationController or StatefulSet named
// by spec.scaleTargetRef (kind and name) in its namespace; with min =
// spec.minReplicas (default 1) and max = spec.maxReplicas:
//
//   - status.observedGeneration, if set, == metadata.generation;
//   - the target exists;
//   - a target at 0 replicas while min > 0 is one upstream's autoscaler
//     leaves alone (scaling disabled): then status.desiredReplicas and
//     status.currentReplicas must be 0;
//   - otherwise the target's spec.replicas is within [min, max] and equals
//     status.desiredReplicas and status.currentReplicas;
//   - recommend, when set and it answers (ok), gives the replica count the
//     metrics call for: the target's spec.replicas must equal it clamped to
//     [min, max].
//
// recommend is asked on every evaluation (it may read metrics that change
// without a commit, but the convergence check asks only after commits).
func HPAs(recommend func(hpa *autoscalingv2.HorizontalPodAutoscaler) (int32, bool)) Predicate {
	return &hpaPred{hpas: map[types.UID]*autoscalingv2.HorizontalPodAutoscaler{}, verdicts: newVerdictCache(),
		targets: map[string]int32{}, recommend: recommend}
}

type hpaPred struct {
	hpas      map[types.UID]*autoscalingv2.HorizontalPodAutoscaler
	verdicts  *verdictCache
	targets   map[string]int32 // "Kind/ns/name" → spec.replicas
	recommend func(*autoscalingv2.HorizontalPodAutoscaler) (int32, bool)
}

func (p *hpaPred) Observe(ev apiserver.Event) {
	var replicas *int32
	switch obj := ev.Object.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		observeOwner(p.hpas, p.verdicts, ev, obj)
		return
	case *appsv1.Deployment:
		replicas = obj.Spec.Replicas
	case *appsv1.ReplicaSet:
		replicas = obj.Spec.Replicas
	case *corev1.ReplicationController:
		replicas = obj.Spec.Replicas
	case *appsv1.StatefulSet:
		replicas = obj.Spec.Replicas
	default:
		return
	}
	p.verdicts.touchAll() // an HPA's verdict depends on its target
	key := string(ev.Kind) + "/" + ev.Key
	if ev.Type == watch.Deleted {
		delete(p.targets, key)
	} else {
		p.targets[key] = deref(replicas)
	}
}

func (p *hpaPred) Holds() (bool, string) {
	if p.recommend != nil {
		p.verdicts.touchAll() // the metrics may have moved without a commit
	}
	return p.verdicts.holds(func(uid types.UID) (bool, string) { return p.eval(p.hpas[uid]) })
}

func (p *hpaPred) eval(h *autoscalingv2.HorizontalPodAutoscaler) (bool, string) {
	if h.DeletionTimestamp != nil {
		return true, ""
	}
	name := "HorizontalPodAutoscaler " + h.Namespace + "/" + h.Name
	if g := h.Status.ObservedGeneration; g != nil && *g != h.Generation {
		return false, fmt.Sprintf("%s observedGeneration %d is behind generation %d", name, *g, h.Generation)
	}
	ref := h.Spec.ScaleTargetRef
	target := ref.Kind + " " + h.Namespace + "/" + ref.Name
	switch apiserver.Kind(ref.Kind) {
	case apiserver.Deployments, apiserver.ReplicaSets, apiserver.ReplicationControllers, apiserver.StatefulSets:
	default:
		return false, fmt.Sprintf("%s targets %s, which is not a kind it can scale", name, target)
	}
	r, ok := p.targets[ref.Kind+"/"+h.Namespace+"/"+ref.Name]
	if !ok {
		return false, fmt.Sprintf("%s targets %s, which does not exist", name, target)
	}
	lo, hi := int32(1), h.Spec.MaxReplicas
	if h.Spec.MinReplicas != nil {
		lo = *h.Spec.MinReplicas
	}
	st := h.Status
	if r == 0 && lo > 0 {
		if st.DesiredReplicas != 0 || st.CurrentReplicas != 0 {
			return false, fmt.Sprintf("%s: its target %s is at 0 replicas (scaling disabled) but status has current %d, desired %d, wants 0 and 0",
				name, target, st.CurrentReplicas, st.DesiredReplicas)
		}
		return true, ""
	}
	switch {
	case r < lo || r > hi:
		return false, fmt.Sprintf("%s: its target %s has %d replicas, outside [%d, %d]", name, target, r, lo, hi)
	case st.DesiredReplicas != r:
		return false, fmt.Sprintf("%s status.desiredReplicas is %d, but its target %s has %d replicas", name, st.DesiredReplicas, target, r)
	case st.CurrentReplicas != r:
		return false, fmt.Sprintf("%s status.currentReplicas is %d, but its target %s has %d replicas", name, st.CurrentReplicas, target, r)
	}
	if p.recommend != nil {
		if rec, ok := p.recommend(h); ok {
			if want := min(max(rec, lo), hi); r != want {
				return false, fmt.Sprintf("%s: its target %s has %d replicas, the metrics call for %d", name, target, r, want)
			}
		}
	}
	return true, ""
}
