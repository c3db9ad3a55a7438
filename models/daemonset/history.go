package daemonset

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/json"
)

// RevisionPatch is what a ControllerRevision of ds stores (upstream's
// getPatch): a strategic merge patch that puts ds's pod template back,
// {"spec":{"template":{…,"$patch":"replace"}}}. A revision whose data equals
// it is the DaemonSet's current revision.
func RevisionPatch(ds *appsv1.DaemonSet) ([]byte, error) {
	data, err := json.Marshal(ds.Spec.Template)
	if err != nil {
		return nil, err
	}
	var template map[string]interface{}
	if err := json.Unmarshal(data, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]interface{}{"spec": map[string]interface{}{"template": template}})
}

// constructHistory is upstream's constructHistory: claim the DaemonSet's
// ControllerRevisions, label any without a controller-revision-hash, find the
// current one (creating it, or collapsing duplicates) and give it the highest
// revision number. It returns the current revision and the others.
func (c *Controller) constructHistory(ds *appsv1.DaemonSet) (*appsv1.ControllerRevision, []*appsv1.ControllerRevision, error) {
	histories, err := c.claimHistories(ds)
	if err != nil {
		return nil, nil, err
	}
	patch, err := RevisionPatch(ds)
	if err != nil {
		return nil, nil, err
	}
	var current, old []*appsv1.ControllerRevision
	for _, h := range histories {
		if _, ok := h.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; !ok {
			cp := h.DeepCopy()
			if cp.Labels == nil {
				cp.Labels = map[string]string{}
			}
			cp.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = cp.Name
			obj, err := c.ctx.Client().Update(cp)
			if err != nil {
				return nil, nil, err
			}
			h = obj.(*appsv1.ControllerRevision)
		}
		if bytes.Equal(patch, h.Data.Raw) {
			current = append(current, h)
		} else {
			old = append(old, h)
		}
	}
	next := maxRevision(old) + 1
	if len(current) == 0 {
		cur, err := c.snapshot(ds, patch, next)
		if err != nil {
			return nil, nil, err
		}
		return cur, old, nil
	}
	cur, err := c.dedupCurrent(ds, current)
	if err != nil {
		return nil, nil, err
	}
	if cur.Revision < next {
		cp := cur.DeepCopy()
		cp.Revision = next
		if _, err := c.ctx.Client().Update(cp); err != nil {
			return nil, nil, err
		}
	}
	return cur, old, nil
}

func maxRevision(hs []*appsv1.ControllerRevision) int64 {
	n := int64(0)
	for _, h := range hs {
		n = max(n, h.Revision)
	}
	return n
}

// snapshot creates the revision of ds's current template, named
// <ds>-<hash>. If that name is taken by a revision of another template (a
// hash collision), it bumps status.collisionCount and fails, so that the
// retry hashes differently.
func (c *Controller) snapshot(ds *appsv1.DaemonSet, patch []byte, revision int64) (*appsv1.ControllerRevision, error) {
	hash := kube.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	name := ds.Name + "-" + hash
	lbls := maps.Clone(ds.Spec.Template.Labels)
	if lbls == nil {
		lbls = map[string]string{}
	}
	lbls[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ds.Namespace, Labels: lbls, Annotations: maps.Clone(ds.Annotations),
			OwnerReferences: []metav1.OwnerReference{controllerRef(ds)},
		},
		Data:     runtime.RawExtension{Raw: patch},
		Revision: revision,
	}
	obj, err := c.ctx.Client().Create(cr)
	if err == nil {
		return obj.(*appsv1.ControllerRevision), nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	existing, getErr := c.ctx.Client().Get(apiserver.ControllerRevisions, ds.Namespace, name)
	if getErr != nil {
		return nil, getErr
	}
	if h := existing.(*appsv1.ControllerRevision); bytes.Equal(patch, h.Data.Raw) {
		return h, nil // ours, from an earlier sync the cache has not shown yet
	}
	fresh, getErr := c.ctx.Client().Get(apiserver.DaemonSets, ds.Namespace, ds.Name)
	if getErr != nil {
		return nil, getErr
	}
	cur := fresh.(*appsv1.DaemonSet)
	if !reflect.DeepEqual(cur.Status.CollisionCount, ds.Status.CollisionCount) {
		return nil, fmt.Errorf("found a stale collision count (%v, expected %v) of DaemonSet %q while processing; will retry until it is updated",
			ptrString(ds.Status.CollisionCount), ptrString(cur.Status.CollisionCount), ds.Name)
	}
	n := int32(0)
	if cur.Status.CollisionCount != nil {
		n = *cur.Status.CollisionCount
	}
	n++
	cur.Status.CollisionCount = &n
	if _, err := c.ctx.Client().UpdateStatus(cur); err != nil {
		return nil, err
	}
	return nil, err
}

func ptrString(p *int32) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// dedupCurrent keeps the current revision with the highest number (the last
// such in the order given on a tie), relabels the DaemonSet's pods to its
// hash and deletes the other current ones.
func (c *Controller) dedupCurrent(ds *appsv1.DaemonSet, current []*appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	if len(current) == 1 {
		return current[0], nil
	}
	var keep *appsv1.ControllerRevision
	best := int64(0)
	for _, h := range current {
		if h.Revision >= best {
			keep, best = h, h.Revision
		}
	}
	pods, err := c.daemonPods(ds)
	if err != nil {
		return nil, err
	}
	hash := keep.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	for _, p := range pods {
		if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
			continue
		}
		patch, err := json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{"labels": map[string]interface{}{appsv1.DefaultDaemonSetUniqueLabelKey: hash}}})
		if err != nil {
			return nil, err
		}
		if _, err := c.ctx.Client().Patch(apiserver.Pods, ds.Namespace, p.Name, types.MergePatchType, patch, ""); err != nil {
			return nil, err
		}
	}
	for _, h := range current {
		if h.Name == keep.Name {
			continue
		}
		if err := c.ctx.Client().Delete(apiserver.ControllerRevisions, ds.Namespace, h.Name, nil); err != nil {
			return nil, err
		}
	}
	return keep, nil
}

// cleanupHistory deletes the oldest revisions beyond revisionHistoryLimit,
// sparing those a pod of the DaemonSet still runs (terminated pods included).
func (c *Controller) cleanupHistory(ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision) error {
	byNode, err := c.nodesToDaemonPods(ds, true)
	if err != nil {
		return fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: %v", ds.Name, err)
	}
	limit := 10
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	toKill := len(old) - limit
	if toKill <= 0 {
		return nil
	}
	live := map[string]bool{}
	for _, pods := range byNode {
		for _, p := range pods {
			if h := p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; h != "" {
				live[h] = true
			}
		}
	}
	old = append([]*appsv1.ControllerRevision(nil), old...)
	sort.SliceStable(old, func(i, j int) bool { return old[i].Revision < old[j].Revision })
	for _, h := range old {
		if toKill <= 0 {
			break
		}
		if live[h.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] {
			continue
		}
		if err := c.ctx.Client().Delete(apiserver.ControllerRevisions, ds.Namespace, h.Name, nil); err != nil {
			return err
		}
		toKill--
	}
	return nil
}

// claimHistories is ClaimControllerRevisions over every revision in the
// DaemonSet's namespace: keep ours that match, release ours that do not,
// adopt matching orphans.
func (c *Controller) claimHistories(ds *appsv1.DaemonSet) ([]*appsv1.ControllerRevision, error) {
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, err
	}
	objs := c.histories.List(ds.Namespace, nil)
	hs := make([]*appsv1.ControllerRevision, len(objs))
	for i, o := range objs {
		hs[i] = o.(*appsv1.ControllerRevision)
	}
	// The cache's order depends on its history of changes; upstream's is a
	// map's. Name order is as good and easier to read in a trace.
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	return c.refManager(ds, selector, nil).ClaimControllerRevisions(hs)
}
