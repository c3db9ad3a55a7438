package daemonset

import (
	"fmt"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// counts are the status numbers of a DaemonSet.
type counts struct {
	desired, current, misscheduled, ready, updated, available, unavailable int32
}

// calculateStatus counts, over the nodes: those that should run the pod
// (desired) and have one (current), of which the kept pod — the one the
// duplicates rule keeps — is ready, available, and at the current revision;
// and those that should not run it but have one (misscheduled).
func (c *Controller) calculateStatus(ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod, hash string, now time.Time) counts {
	var n counts
	elig := kube.NewDaemonEligibility(&ds.Spec.Template.Spec)
	gen := templateGeneration(ds)
	for _, node := range nodes {
		run, _ := elig.ShouldRun(node)
		pods := byNode[node.Name]
		scheduled := len(pods) > 0
		if !run {
			if scheduled {
				n.misscheduled++
			}
			continue
		}
		n.desired++
		if !scheduled {
			continue
		}
		n.current++
		c.sortForKeeping(pods)
		pod := pods[0]
		if kube.IsPodReady(pod) {
			n.ready++
			if kube.IsPodAvailable(pod, ds.Spec.MinReadySeconds, now) {
				n.available++
			}
		}
		if isPodUpdated(pod, hash, gen) {
			n.updated++
		}
	}
	n.unavailable = n.desired - n.available
	return n
}

// updateStatus is updateDaemonSetStatus: count and store the status
// (observedGeneration too if observed), then, with minReadySeconds, look
// again once pods may have become available.
func (c *Controller) updateStatus(ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string, observed bool) error {
	byNode, err := c.nodesToDaemonPods(ds, false)
	if err != nil {
		return fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: %v", ds.Name, err)
	}
	n := c.calculateStatus(ds, nodes, byNode, hash, c.ctx.Now())
	updated, err := c.storeStatus(ds, n, observed)
	if err != nil {
		return fmt.Errorf("error storing status for daemon set %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	if updated != nil {
		c.consistency.WroteAt(controller.KeyFunc(updated), updated.UID, apiserver.DaemonSets, updated.ResourceVersion)
	}
	if ds.Spec.MinReadySeconds > 0 && n.ready != n.available {
		c.queue.AddAfter(controller.KeyFunc(ds), time.Duration(ds.Spec.MinReadySeconds)*time.Second)
	}
	return nil
}

// storeStatus writes the counts unless the status has them already and
// observedGeneration is caught up; on a failed write it reads the DaemonSet
// once and tries once more. It returns the written DaemonSet, nil if nothing
// was written.
func (c *Controller) storeStatus(ds *appsv1.DaemonSet, n counts, observed bool) (*appsv1.DaemonSet, error) {
	s := ds.Status
	if s.DesiredNumberScheduled == n.desired && s.CurrentNumberScheduled == n.current && s.NumberMisscheduled == n.misscheduled &&
		s.NumberReady == n.ready && s.UpdatedNumberScheduled == n.updated && s.NumberAvailable == n.available &&
		s.NumberUnavailable == n.unavailable && s.ObservedGeneration >= ds.Generation {
		return nil, nil
	}
	obj, err := c.ctx.Client().UpdateStatusRetrying(apiserver.DaemonSets, ds, statusUpdateRetries, func(obj apiserver.Object) apiserver.Object {
		toUpdate := obj.(*appsv1.DaemonSet).DeepCopy()
		if observed {
			toUpdate.Status.ObservedGeneration = ds.Generation
		}
		st := &toUpdate.Status
		st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled = n.desired, n.current, n.misscheduled
		st.NumberReady, st.UpdatedNumberScheduled = n.ready, n.updated
		st.NumberAvailable, st.NumberUnavailable = n.available, n.unavailable
		return toUpdate
	})
	if err != nil {
		return nil, err
	}
	return obj.(*appsv1.DaemonSet), nil
}
