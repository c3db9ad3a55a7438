package hpa

import (
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Recommender is the replica count the metrics call for, for an HPA, from the
// API server's objects as they are now (no request, no cache): the model's
// proposal before stabilization and rate limits, which check.HPAs clamps to
// [minReplicas, maxReplicas]. It answers (ok) only when the target exists
// with replicas within the HPA's bounds and every metric of the HPA can be
// computed. opts gives the tolerance and start-up windows (as the model was
// started with); its Metrics, if nil, is the server's.
//
//	check.HPAs(hpa.Recommender(c.API, hpa.Options{}))
func Recommender(api *apiserver.Server, opts Options) func(*autoscalingv2.HorizontalPodAutoscaler) (int32, bool) {
	opts.defaults()
	return func(h *autoscalingv2.HorizontalPodAutoscaler) (int32, bool) {
		ref := h.Spec.ScaleTargetRef
		replicas, selector, ok := targetOf(api, apiserver.Kind(ref.Kind), h.Namespace, ref.Name)
		if !ok {
			return 0, false
		}
		lo := int32(1)
		if h.Spec.MinReplicas != nil {
			lo = *h.Spec.MinReplicas
		}
		if replicas == 0 || replicas < lo || replicas > h.Spec.MaxReplicas {
			return 0, false
		}
		source := opts.Metrics
		if source == nil {
			source = api.Metrics
		}
		var pods []*corev1.Pod
		for _, o := range api.Objects(apiserver.Pods) {
			if o.GetNamespace() == h.Namespace && selector.Matches(labels.Set(o.GetLabels())) {
				pods = append(pods, o.(*corev1.Pod))
			}
		}
		e := evaluator{calc: &calculator{now: api.World().Now(), cpuInitialization: opts.CPUInitializationPeriod, initialReadinessDelay: opts.InitialReadinessDelay},
			source: source, tol: tolerancesOf(h, opts.Tolerance), namespace: h.Namespace, selector: selector, pods: pods, specReplicas: replicas}
		proposal, _, _, _, invalid, _ := e.all(h.Spec.Metrics)
		if invalid > 0 || len(h.Spec.Metrics) == 0 {
			return 0, false
		}
		return proposal, true
	}
}

// targetOf reads a scale target's spec.replicas and selector from the store.
func targetOf(api *apiserver.Server, kind apiserver.Kind, ns, name string) (int32, labels.Selector, bool) {
	var obj apiserver.Object
	for _, o := range api.Objects(kind) {
		if o.GetNamespace() == ns && o.GetName() == name {
			obj = o
			break
		}
	}
	if obj == nil || obj.GetDeletionTimestamp() != nil {
		return 0, nil, false
	}
	deref := func(p *int32) int32 {
		if p == nil {
			return 1
		}
		return *p
	}
	var replicas int32
	var sel *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		replicas, sel = deref(o.Spec.Replicas), o.Spec.Selector
	case *appsv1.Deployment:
		replicas, sel = deref(o.Spec.Replicas), o.Spec.Selector
	case *appsv1.StatefulSet:
		replicas, sel = deref(o.Spec.Replicas), o.Spec.Selector
	case *corev1.ReplicationController:
		return deref(o.Spec.Replicas), labels.SelectorFromSet(o.Spec.Selector), len(o.Spec.Selector) > 0
	default:
		return 0, nil, false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return 0, nil, false
	}
	return replicas, s, true
}
