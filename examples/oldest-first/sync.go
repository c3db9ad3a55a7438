package oldestfirst

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// sync reconciles one ReplicaSet: claim its pods, create or delete the
// difference to spec.replicas (unless earlier creates or deletes are still
// on their way to the cache), write status. An error retries the key later.
func (c *Controller) sync(key string) error {
	ns, name, _ := strings.Cut(key, "/")
	obj := c.rsets.Get(ns, name)
	if obj == nil {
		c.expect.forget(key) // deleted: nothing left to expect
		return nil
	}
	rs := obj.(*appsv1.ReplicaSet) // the cache's copy: read it, never modify it
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || sel.Empty() {
		return nil // retrying cannot fix a bad selector
	}
	pods, err := c.claim(rs, sel)
	if err != nil {
		return err
	}
	var manageErr error
	if rs.DeletionTimestamp == nil && c.expect.satisfied(key, c.ctx.Now()) {
		manageErr = c.manage(rs, pods)
	}
	if err := c.writeStatus(rs, pods); err != nil {
		return err
	}
	return manageErr
}

// claim returns the active pods the ReplicaSet controls and that its selector
// matches, adopting matching orphans and releasing its pods that no longer
// match: upstream's ClaimPods, through harness/controller's controller-ref
// manager, which before the first adoption makes sure with a quorum read
// that this very ReplicaSet still exists and is not being deleted (the
// cache may be stale).
func (c *Controller) claim(rs *appsv1.ReplicaSet, sel labels.Selector) ([]*corev1.Pod, error) {
	// Owned pods (by the built-in owner-uid index), then the namespace's
	// orphans (our own index): both in the cache's deterministic order.
	var pods []*corev1.Pod
	for _, obj := range c.pods.ByIndex(controller.IndexOwnerUID, string(rs.UID)) {
		// A pod that only refers to rs without being controlled is an orphan:
		// it comes with the orphans.
		if pod := obj.(*corev1.Pod); podActive(pod) && metav1.IsControlledBy(pod, rs) {
			pods = append(pods, pod)
		}
	}
	for _, obj := range c.pods.ByIndex(indexOrphans, rs.Namespace) {
		if pod := obj.(*corev1.Pod); podActive(pod) {
			pods = append(pods, pod)
		}
	}
	m := controller.NewRefManager(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), sel,
		controller.PatchThrough(c.ctx.Client(), nil),
		controller.RecheckDeletionTimestamp(c.ctx.Client(), apiserver.ReplicaSets, rs))
	return m.ClaimPods(pods)
}

// manage creates the missing pods or deletes the surplus, oldest first.
// Creates and deletes of one sync run concurrently (ctx.Parallel): the
// coroutines run one at a time, so they share errs without a lock.
func (c *Controller) manage(rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	key := keyOf(rs)
	diff := len(pods) - int(*rs.Spec.Replicas)
	var errs []error
	switch {
	case diff < 0:
		n := min(-diff, c.opts.Burst)
		c.expect.expect(key, n, nil, c.ctx.Now())
		c.ctx.Parallel(n, func(int) {
			if _, err := c.ctx.Client().Create(newPod(rs)); err != nil {
				c.expect.created(key) // it will never show up in the cache
				errs = append(errs, err)
			}
		})
	case diff > 0:
		victims := OldestFirst(pods, min(diff, c.opts.Burst))
		c.record(rs, pods, victims)
		uids := make([]types.UID, len(victims))
		for i, p := range victims {
			uids[i] = p.UID
		}
		c.expect.expect(key, 0, uids, c.ctx.Now())
		c.ctx.Parallel(len(victims), func(i int) {
			if err := c.ctx.Client().Delete(apiserver.Pods, rs.Namespace, victims[i].Name, nil); err != nil {
				c.expect.deleted(key, victims[i].UID)
				if !apierrors.IsNotFound(err) {
					errs = append(errs, err)
				}
			}
		})
	}
	return errors.Join(errs...)
}

// OldestFirst returns the n pods to delete: the earliest created first, ties
// broken by name. It does not reorder pods.
func OldestFirst(pods []*corev1.Pod, n int) []*corev1.Pod {
	sorted := append([]*corev1.Pod(nil), pods...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return sorted[:min(max(n, 0), len(sorted))]
}

func newPod(rs *appsv1.ReplicaSet) *corev1.Pod {
	t := rs.Spec.Template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:    rs.Namespace,
			GenerateName: rs.Name + "-",
			Labels:       t.Labels,
			Annotations:  t.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs,
				appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))},
		},
		Spec: t.Spec,
	}
}

// writeStatus writes the counts of the claimed pods, if they changed.
func (c *Controller) writeStatus(rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	now := c.ctx.Now()
	st := *rs.Status.DeepCopy()
	st.Replicas, st.FullyLabeledReplicas, st.ReadyReplicas, st.AvailableReplicas = int32(len(pods)), 0, 0, 0
	st.ObservedGeneration = rs.Generation
	tmpl := labels.SelectorFromSet(rs.Spec.Template.Labels)
	for _, p := range pods {
		if tmpl.Matches(labels.Set(p.Labels)) {
			st.FullyLabeledReplicas++
		}
		if !kube.IsPodReady(p) {
			continue
		}
		st.ReadyReplicas++
		if kube.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
			st.AvailableReplicas++
		}
	}
	if st.ReadyReplicas != st.AvailableReplicas {
		c.queue.AddAfter(keyOf(rs), time.Duration(rs.Spec.MinReadySeconds)*time.Second) // look again when more may be available
	}
	if equality.Semantic.DeepEqual(st, rs.Status) {
		return nil
	}
	cp := rs.DeepCopy()
	cp.Status = st
	_, err := c.ctx.Client().UpdateStatus(cp) // a stale resourceVersion is a 409: retried
	return err
}

// record writes the scale-down decision to the trace: every candidate with
// the attributes upstream ranks by, and the pods chosen. ctrlsim scores it
// against upstream's ranking ("spared by upstream").
func (c *Controller) record(rs *appsv1.ReplicaSet, pods, victims []*corev1.Pod) {
	if c.opts.Trace == nil {
		return
	}
	onNode := c.colocated(rs)
	d := trace.Decision{
		Time:               c.ctx.World().Now().Format(time.RFC3339Nano),
		Controller:         c.ctx.Name(),
		Owner:              "ReplicaSet/" + rs.Namespace + "/" + rs.Name,
		OwnerHasController: metav1.GetControllerOfNoCopy(rs) != nil,
		Now:                c.ctx.Now().Format(time.RFC3339Nano),
		Diff:               len(victims),
	}
	for _, p := range pods {
		cand := trace.Candidate{Name: p.Name, UID: string(p.UID), Node: p.Spec.NodeName, Phase: string(p.Status.Phase),
			Ready: kube.IsPodReady(p), Created: p.CreationTimestamp.Time.Format(time.RFC3339Nano), Rank: onNode[p.Spec.NodeName]}
		if cand.Ready {
			s := kube.PodReadySince(p).Format(time.RFC3339Nano)
			cand.ReadySince = &s
		}
		for _, cs := range p.Status.ContainerStatuses {
			cand.Restarts = max(cand.Restarts, int(cs.RestartCount))
		}
		cand.DeletionCost, _ = strconv.Atoi(p.Annotations["controller.kubernetes.io/pod-deletion-cost"])
		d.Candidates = append(d.Candidates, cand)
	}
	for _, p := range victims {
		d.Chosen = append(d.Chosen, p.Name)
	}
	c.opts.Trace.Record(d)
}

// colocated counts, per node, the active pods of the ReplicaSets that share
// rs's controller (a Deployment's), as upstream's ranking does; none when rs
// has no controller. Only the trace uses it: this controller ignores it.
func (c *Controller) colocated(rs *appsv1.ReplicaSet) map[string]int {
	out := map[string]int{}
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return out
	}
	seen := map[types.UID]bool{}
	for _, obj := range c.rsets.List(rs.Namespace, nil) {
		sib := obj.(*appsv1.ReplicaSet)
		if r := metav1.GetControllerOfNoCopy(sib); r == nil || r.UID != ref.UID {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(sib.Spec.Selector)
		if err != nil {
			continue
		}
		for _, o := range c.pods.List(sib.Namespace, sel) {
			if p := o.(*corev1.Pod); !seen[p.UID] && podActive(p) {
				seen[p.UID] = true
				out[p.Spec.NodeName]++
			}
		}
	}
	return out
}
