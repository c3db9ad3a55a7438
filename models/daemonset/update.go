package daemonset

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// surgeCount is maxSurge scaled to n nodes (percentages rounded up); 0 unless
// the strategy is RollingUpdate with a maxSurge.
func surgeCount(ds *appsv1.DaemonSet, n int) (int, error) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil || ru.MaxSurge == nil {
		return 0, nil
	}
	return intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, n, true)
}

// unavailableCount is maxUnavailable scaled to n nodes (percentages rounded
// up); 0 unless the strategy is RollingUpdate.
func unavailableCount(ds *appsv1.DaemonSet, n int) (int, error) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return 0, nil
	}
	return intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, n, true)
}

// updateBudget is updatedDesiredNodeCounts: maxSurge and maxUnavailable
// scaled to the number of nodes that should run the pod (if both come to 0,
// one unavailable pod is allowed), and that number. It adds an empty entry to
// byNode for every such node without a pod.
func updateBudget(ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod) (maxSurge, maxUnavailable, desired int, err error) {
	elig := kube.NewDaemonEligibility(&ds.Spec.Template.Spec)
	for _, node := range nodes {
		if run, _ := elig.ShouldRun(node); !run {
			continue
		}
		desired++
		if _, ok := byNode[node.Name]; !ok {
			byNode[node.Name] = nil
		}
	}
	if maxUnavailable, err = unavailableCount(ds, desired); err != nil {
		return -1, -1, -1, fmt.Errorf("invalid value for MaxUnavailable: %v", err)
	}
	if maxSurge, err = surgeCount(ds, desired); err != nil {
		return -1, -1, -1, fmt.Errorf("invalid value for MaxSurge: %v", err)
	}
	if desired > 0 && maxUnavailable == 0 && maxSurge == 0 {
		maxUnavailable = 1
	}
	return maxSurge, maxUnavailable, desired, nil
}

// podsOnNodeByRevision is findUpdatedPodsOnNode: the node's new (current
// revision) and old pod among those not being deleted; ok is false if it has
// more than one of either (the manage loop prunes those first).
func podsOnNodeByRevision(ds *appsv1.DaemonSet, pods []*corev1.Pod, hash string) (newPod, oldPod *corev1.Pod, ok bool) {
	gen := templateGeneration(ds)
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if isPodUpdated(p, hash, gen) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = p
		}
	}
	return newPod, oldPod, true
}

// isPodUpdated: the pod carries the current controller-revision-hash, or the
// current pod-template-generation.
func isPodUpdated(p *corev1.Pod, hash string, gen *int64) bool {
	if gen != nil && p.Labels["pod-template-generation"] == fmt.Sprint(*gen) {
		return true
	}
	return hash != "" && p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash
}

// rollingUpdate replaces old pods within the strategy's bounds. Without
// surge it deletes old pods — every unavailable one, and available ones while
// fewer than maxUnavailable nodes are unavailable — and leaves the creation
// of their replacements to the manage loop. With surge it creates new pods
// next to old ones (at once where the old one is unavailable, else up to
// maxSurge), and deletes an old pod once its node's new pod is available.
//
// Upstream walks the nodes in map order, so which nodes go first is
// unspecified; the model walks them in name order.
func (c *Controller) rollingUpdate(ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string) error {
	byNode, err := c.nodesToDaemonPods(ds, false)
	if err != nil {
		return fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: %v", ds.Name, err)
	}
	maxSurge, maxUnavailable, desired, err := updateBudget(ds, nodes, byNode)
	if err != nil {
		return fmt.Errorf("couldn't get unavailable numbers: %v", err)
	}
	now := c.ctx.Now()
	mrs := ds.Spec.MinReadySeconds
	names := slices.Sorted(maps.Keys(byNode))

	if maxSurge == 0 {
		unavailable := 0
		var replace, candidates []string
		for _, node := range names {
			newPod, oldPod, ok := podsOnNodeByRevision(ds, byNode[node], hash)
			switch {
			case !ok:
				unavailable++ // the manage loop prunes the extra pods first
			case oldPod == nil && newPod == nil, oldPod != nil && newPod != nil:
				unavailable++ // the manage loop creates or deletes here
			case newPod != nil:
				if !kube.IsPodAvailable(newPod, mrs, now) {
					unavailable++
				}
			case !kube.IsPodAvailable(oldPod, mrs, now):
				replace = append(replace, oldPod.Name) // replace at once
				unavailable++
			case unavailable >= maxUnavailable:
			default:
				candidates = append(candidates, oldPod.Name)
			}
		}
		room := min(max(maxUnavailable-unavailable, 0), len(candidates))
		return c.syncNodes(ds, append(replace, candidates[:room]...), nil, hash)
	}

	elig := kube.NewDaemonEligibility(&ds.Spec.Template.Spec)
	shouldRun := func(name string) (bool, error) {
		obj := c.nodes.Get("", name)
		if obj == nil {
			return false, fmt.Errorf("couldn't get node for nodeName %q: node %q not found", name, name)
		}
		run, _ := elig.ShouldRun(obj.(*corev1.Node))
		return run, nil
	}
	var toDelete, sunsetting, candidates, allowed []string
	surging, available := 0, 0
	for _, node := range names {
		newPod, oldPod, ok := podsOnNodeByRevision(ds, byNode[node], hash)
		if !ok {
			surging++ // the manage loop prunes the extra pods first
			continue
		}
		switch {
		case oldPod != nil:
			if kube.IsPodAvailable(oldPod, mrs, now) {
				available++
			}
		case newPod != nil:
			if kube.IsPodAvailable(newPod, mrs, now) {
				available++
			}
		}
		switch {
		case oldPod == nil:
			// nothing to replace; the manage loop creates a missing pod
		case newPod == nil:
			run, err := shouldRun(node)
			if err != nil {
				return err
			}
			switch {
			case !kube.IsPodAvailable(oldPod, mrs, now):
				if !run {
					toDelete = append(toDelete, oldPod.Name)
					continue
				}
				allowed = append(allowed, node)
			case !run:
				sunsetting = append(sunsetting, oldPod.Name)
			case surging >= maxSurge:
			default:
				candidates = append(candidates, node)
			}
		case !kube.IsPodAvailable(newPod, mrs, now):
			surging++
		default:
			toDelete = append(toDelete, oldPod.Name) // its replacement is available
		}
	}
	// Old pods on nodes that stopped qualifying go only as pods elsewhere
	// become available (maxSurge promises full availability).
	if deletable := min(available-desired, len(sunsetting)); deletable > 0 {
		for _, name := range sunsetting[:deletable] {
			if c.pods.Get(ds.Namespace, name) == nil {
				continue
			}
			toDelete = append(toDelete, name)
		}
	}
	room := min(max(maxSurge-surging, 0), len(candidates))
	return c.syncNodes(ds, toDelete, append(allowed, candidates[:room]...), hash)
}
