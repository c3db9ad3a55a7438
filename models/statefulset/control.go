package statefulset

import (
	"errors"
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// updateStatefulSet is upstream's UpdateStatefulSet: find or make the
// revisions, bring the pods to the spec, write the status, trim the history.
func (c *Controller) updateStatefulSet(set *appsv1.StatefulSet, pods []*corev1.Pod, now time.Time) (*appsv1.StatefulSetStatus, error) {
	set = set.DeepCopy()
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return nil, err
	}
	revs := c.listRevisions(set, selector)
	sortRevisions(revs)
	current, update, status, err := c.performUpdate(set, pods, revs, now)
	truncErr := c.truncateHistory(set, pods, revs, current, update)
	if err != nil {
		return nil, errors.Join(err, truncErr)
	}
	return status, truncErr
}

func (c *Controller) performUpdate(set *appsv1.StatefulSet, pods []*corev1.Pod, revs []*appsv1.ControllerRevision, now time.Time) (current, update *appsv1.ControllerRevision, status *appsv1.StatefulSetStatus, err error) {
	current, update, collisionCount, err := c.revisionsFor(set, revs)
	if err != nil {
		return current, update, nil, err
	}
	status, err = c.reconcile(set, current, update, collisionCount, pods, now)
	if err != nil && status == nil {
		return current, update, nil, err
	}
	statusErr := c.writeStatus(set, status)
	switch {
	case err != nil:
		return current, update, status, err
	case statusErr != nil:
		return current, update, status, statusErr
	}
	return current, update, status, nil
}

// plan is one sync's view of a set's pods: a slot per ordinal of the range
// (the pod there, or one built to be created) and the condemned pods beyond
// it, highest ordinal first.
type plan struct {
	set, updateSet *appsv1.StatefulSet
	replicas       []*corev1.Pod
	condemned      []*corev1.Pod
	ordinals       map[*corev1.Pod]int
	firstUnhealthy *corev1.Pod
	monotonic      bool
	now            time.Time
}

// reconcile is upstream's updateStatefulSet: it creates, updates and deletes
// pods so that the set has spec.replicas Ready pods at the right revisions,
// and returns the status to record.
func (c *Controller) reconcile(set *appsv1.StatefulSet, current, update *appsv1.ControllerRevision, collisionCount int32, pods []*corev1.Pod, now time.Time) (*appsv1.StatefulSetStatus, error) {
	currentSet, err := applyRevision(set, current)
	if err != nil {
		return nil, err
	}
	updateSet, err := applyRevision(set, update)
	if err != nil {
		return nil, err
	}
	status := &appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation, CurrentRevision: current.Name, UpdateRevision: update.Name,
		CollisionCount: &collisionCount,
	}
	mrs := set.Spec.MinReadySeconds
	countStatus(status, mrs, current.Name, update.Name, now, pods)

	p := &plan{set: set, updateSet: updateSet, replicas: make([]*corev1.Pod, replicasOf(set)), ordinals: map[*corev1.Pod]int{}, now: now,
		monotonic: set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement && !c.opts.AlwaysParallel}
	start := startOrdinal(set)
	for _, pod := range pods {
		id := c.identify(set, pod)
		switch {
		case id.ordinal < 0:
			continue // no ordinal: ignored
		case !inRange(set, id.ordinal):
			p.condemned = append(p.condemned, pod)
		case c.opts.NoIdentityGuard && isTerminating(pod):
			continue // the variant: a terminating pod holds nothing
		case c.opts.NoIdentityGuard && p.replicas[id.ordinal-start] != nil:
			// Two live pods for one ordinal: keep the proper name.
			if held := p.replicas[id.ordinal-start]; !c.identify(set, held).surrogate || id.surrogate {
				p.condemned = append(p.condemned, pod)
				break
			}
			p.condemned = append(p.condemned, p.replicas[id.ordinal-start])
			p.replicas[id.ordinal-start] = pod
		default:
			p.replicas[id.ordinal-start] = pod
		}
		p.ordinals[pod] = id.ordinal
	}
	for i := range p.replicas {
		if p.replicas[i] == nil {
			p.replicas[i] = newVersionedPod(currentSet, updateSet, current.Name, update.Name, start+i)
			p.ordinals[p.replicas[i]] = start + i
		}
	}
	sort.SliceStable(p.condemned, func(i, j int) bool { return p.ordinals[p.condemned[i]] > p.ordinals[p.condemned[j]] })
	for _, pod := range p.replicas {
		if isUnavailable(pod, mrs, now) {
			p.firstUnhealthy = pod
			break
		}
	}
	if p.firstUnhealthy == nil {
		for i := len(p.condemned) - 1; i >= 0; i-- {
			if isUnavailable(p.condemned[i], mrs, now) {
				p.firstUnhealthy = p.condemned[i]
				break
			}
		}
	}
	if set.DeletionTimestamp != nil {
		return status, nil // a set being deleted gets its status only
	}
	recount := func() { countStatus(status, mrs, current.Name, update.Name, now, p.replicas, p.condemned) }

	// The pods of the range: create, replace, repair; in OrderedReady stop
	// at the first that is not Running, Ready and available.
	if exit, err := c.forEach(p.replicas, p.monotonic, func(i int) (bool, error) { return c.processReplica(p, i) }); exit || err != nil {
		recount()
		return status, err
	}
	// The claims of the condemned pods, for the retention policy.
	if exit, err := c.forEach(p.condemned, p.monotonic, func(i int) (bool, error) {
		pod := p.condemned[i]
		ord := p.ordinals[pod]
		if match, err := c.claimsMatchPolicy(updateSet, pod, ord); err != nil {
			return true, err
		} else if !match {
			if err := c.updateClaimsForPolicy(updateSet, pod, ord); err != nil {
				return true, err
			}
		}
		return false, nil
	}); exit || err != nil {
		recount()
		return status, err
	}
	// Scale down: in OrderedReady the highest ordinal first, one at a time,
	// each after the previous one is gone.
	if exit, err := c.forEach(p.condemned, p.monotonic, func(i int) (bool, error) { return c.processCondemned(p, i) }); exit || err != nil {
		recount()
		return status, err
	}
	recount()

	switch {
	case set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType:
		return status, nil // pods are updated when someone deletes them
	case c.opts.MaxUnavailable:
		return c.rollWithMaxUnavailable(p, update.Name, status)
	}
	// Rolling update: the highest ordinal at an old revision first, down to
	// the partition, one at a time, each after the previous is available.
	for target := len(p.replicas) - 1; target >= int(partitionOf(set)); target-- {
		pod := p.replicas[target]
		if podRevision(pod) != update.Name && !isTerminating(pod) {
			if err := c.deletePod(set, pod); err != nil {
				return status, err
			}
			status.CurrentReplicas--
			return status, nil
		}
		if isUnavailable(pod, mrs, now) {
			return status, nil
		}
	}
	return status, nil
}

// forEach runs fn over the pods: in order, stopping at the first that says
// stop or fails (monotonic), or in slow-start batches, stopping at the first
// batch with an error (burst).
func (c *Controller) forEach(pods []*corev1.Pod, monotonic bool, fn func(i int) (bool, error)) (bool, error) {
	if monotonic {
		for i := range pods {
			if exit, err := fn(i); exit || err != nil {
				return true, err
			}
		}
		return false, nil
	}
	if err := c.slowStart(len(pods), fn); err != nil {
		return true, err
	}
	return false, nil
}

// slowStart runs fn(0..n-1) in concurrent batches of 1, 2, 4, … (at most
// MaxBatchSize), stopping after a batch with an error.
func (c *Controller) slowStart(n int, fn func(i int) (bool, error)) error {
	next := 0
	for batch := min(n, 1); batch > 0; batch = min(2*batch, n-next, MaxBatchSize) {
		first := next
		var errs []error
		c.ctx.Parallel(batch, func(k int) {
			if _, err := fn(first + k); err != nil {
				errs = append(errs, err)
			}
		})
		next += batch
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	return nil
}

// processReplica handles the pod at slot i of the range. It says whether
// the caller must stop (OrderedReady waits for this pod).
func (c *Controller) processReplica(p *plan, i int) (bool, error) {
	set, pod := p.set, p.replicas[i]
	ord := p.ordinals[pod]
	// A pod that ran to completion or failed is deleted; its replacement
	// comes once it is gone.
	if kube.IsPodTerminal(pod) {
		if pod.DeletionTimestamp == nil {
			if err := c.deletePod(set, pod); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	if !isCreated(pod) {
		if c.claimIsStale(set, pod, ord) {
			return true, nil // wait for the old claim to go
		}
		if err := c.createPod(set, pod, ord); err != nil {
			return true, err
		}
		if p.monotonic {
			return true, nil
		}
	}
	if c.opts.NoIdentityGuard && c.identify(set, pod).surrogate && !isTerminating(pod) && c.pods.Get(set.Namespace, podName(set, ord)) == nil {
		// The variant: the name is free again; the surrogate makes way for a
		// pod with the proper name.
		if err := c.deletePod(set, pod); err != nil {
			return true, err
		}
		return true, nil
	}
	if isPending(pod) {
		if err := c.createMissingClaims(set, pod, ord); err != nil {
			return true, err
		}
	}
	if p.monotonic && (isTerminating(pod) || !isRunningAndReady(pod) || !kube.IsPodAvailable(pod, set.Spec.MinReadySeconds, p.now)) {
		return true, nil
	}
	match, err := c.claimsMatchPolicy(p.updateSet, pod, ord)
	if err != nil {
		match = true
	}
	if c.identityMatches(set, pod) && c.storageMatches(set, pod) && match {
		return false, nil
	}
	if err := c.updatePod(p.updateSet, pod.DeepCopy(), ord); err != nil {
		return true, err
	}
	return false, nil
}

// processCondemned scales down the pod at position i of the condemned pods
// (highest ordinal first). In OrderedReady it waits for a terminating pod to
// go, and deletes a pod that is not Running, Ready and available only if it
// is the set's first unhealthy pod.
func (c *Controller) processCondemned(p *plan, i int) (bool, error) {
	set, pod := p.set, p.condemned[i]
	if isTerminating(pod) {
		return p.monotonic, nil
	}
	if p.monotonic && pod != p.firstUnhealthy &&
		(!isRunningAndReady(pod) || !kube.IsPodAvailable(pod, set.Spec.MinReadySeconds, p.now)) {
		return true, nil
	}
	c.recordScaleDown(p, pod)
	return true, c.deletePod(set, pod)
}

// rollWithMaxUnavailable is the rolling update of the MaxUnavailableStatefulSet
// gate: with u pods of the range unavailable, delete up to maxUnavailable − u
// pods at an old revision, highest ordinal first, down to the partition.
func (c *Controller) rollWithMaxUnavailable(p *plan, update string, status *appsv1.StatefulSetStatus) (*appsv1.StatefulSetStatus, error) {
	set := p.set
	maxUnavailable := 1
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		var err error
		if maxUnavailable, err = resolveMaxUnavailable(ru.MaxUnavailable, replicasOf(set)); err != nil {
			return status, err
		}
	}
	unavailable := 0
	for _, pod := range p.replicas {
		if isUnavailable(pod, set.Spec.MinReadySeconds, p.now) {
			unavailable++
		}
	}
	if unavailable >= maxUnavailable {
		return status, nil
	}
	deleted := 0
	for target := len(p.replicas) - 1; target >= int(partitionOf(set)) && deleted < maxUnavailable-unavailable; target-- {
		pod := p.replicas[target]
		if podRevision(pod) != update && !isTerminating(pod) {
			if err := c.deletePod(set, pod); err != nil {
				return status, err
			}
			deleted++
			status.CurrentReplicas--
		}
	}
	return status, nil
}

// resolveMaxUnavailable scales a count or percentage of replicas, rounding
// down, and never below 1 (default 1).
func resolveMaxUnavailable(v *intstr.IntOrString, replicas int) (int, error) {
	val := intstr.FromInt32(1)
	if v != nil {
		val = *v
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(&val, replicas, false)
	if err != nil {
		return 0, err
	}
	return max(n, 1), nil
}

// recordScaleDown traces a scale-down deletion: the condemned pods in the
// order considered, and the one chosen.
func (c *Controller) recordScaleDown(p *plan, chosen *corev1.Pod) {
	if c.opts.Trace == nil {
		return
	}
	var cands []trace.Candidate
	for _, pod := range p.condemned {
		if isTerminating(pod) {
			continue
		}
		cands = append(cands, trace.CandidateOf(pod))
	}
	c.opts.Trace.Record(trace.Decision{
		Time: c.ctx.World().Now().Format(time.RFC3339Nano), Controller: c.opts.Name,
		Owner:              "StatefulSet/" + p.set.Namespace + "/" + p.set.Name,
		OwnerHasController: metav1.GetControllerOfNoCopy(p.set) != nil,
		Now:                p.now.Format(time.RFC3339Nano), Diff: 1, Candidates: cands, Chosen: []string{chosen.Name},
	})
}
