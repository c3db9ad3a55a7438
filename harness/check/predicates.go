package check

import (
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// All combines predicates: every one must hold; the first failing one says why.
func All(preds ...Predicate) Predicate {
	return func(api *apiserver.Server) (bool, string) {
		for _, p := range preds {
			if ok, why := p(api); !ok {
				return false, why
			}
		}
		return true, ""
	}
}

// ReplicaSets is the desired state of every ReplicaSet and
// ReplicationController (Anvil's ESR predicate): the owned, selector-matching,
// non-terminating pods number spec.replicas; status.replicas equals
// spec.replicas at the current observedGeneration; no matching pod is an
// orphan. Owners being deleted are skipped.
func ReplicaSets(api *apiserver.Server) (bool, string) {
	pods := api.Objects(apiserver.Pods)
	type owner struct {
		kind          apiserver.Kind
		ns, name      string
		uid           types.UID
		sel           labels.Selector
		spec, status  int32
		gen, observed int64
	}
	var owners []owner
	for _, o := range api.Objects(apiserver.ReplicaSets) {
		rs := o.(*appsv1.ReplicaSet)
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || rs.DeletionTimestamp != nil {
			continue
		}
		owners = append(owners, owner{apiserver.ReplicaSets, rs.Namespace, rs.Name, rs.UID, sel, *rs.Spec.Replicas, rs.Status.Replicas, rs.Generation, rs.Status.ObservedGeneration})
	}
	for _, o := range api.Objects(apiserver.ReplicationControllers) {
		rc := o.(*corev1.ReplicationController)
		if rc.DeletionTimestamp != nil {
			continue
		}
		owners = append(owners, owner{apiserver.ReplicationControllers, rc.Namespace, rc.Name, rc.UID, labels.SelectorFromSet(rc.Spec.Selector), *rc.Spec.Replicas, rc.Status.Replicas, rc.Generation, rc.Status.ObservedGeneration})
	}
	if len(owners) == 0 {
		return true, ""
	}
	byUID := map[types.UID]int{}
	for i, o := range owners {
		byUID[o.uid] = i
	}
	count := make([]int32, len(owners))
	for _, p := range pods {
		pod := p.(*corev1.Pod)
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil {
			for _, o := range owners {
				if o.ns == pod.Namespace && o.sel.Matches(labels.Set(pod.Labels)) {
					return false, fmt.Sprintf("pod %s/%s matches %s/%s but has no owner", pod.Namespace, pod.Name, o.kind, o.name)
				}
			}
			continue
		}
		if i, ok := byUID[ref.UID]; ok && owners[i].sel.Matches(labels.Set(pod.Labels)) {
			count[i]++
		}
	}
	for i, o := range owners {
		switch {
		case count[i] != o.spec:
			return false, fmt.Sprintf("%s %s/%s has %d pods, wants %d", o.kind, o.ns, o.name, count[i], o.spec)
		case o.status != o.spec:
			return false, fmt.Sprintf("%s %s/%s status.replicas is %d, wants %d", o.kind, o.ns, o.name, o.status, o.spec)
		case o.observed != o.gen:
			return false, fmt.Sprintf("%s %s/%s observedGeneration %d is behind generation %d", o.kind, o.ns, o.name, o.observed, o.gen)
		}
	}
	return true, ""
}
