package statefulset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// ControllerRevisions: each distinct pod template of a set is recorded as a
// ControllerRevision named <set>-<hash>, whose data is a strategic merge patch
// that replaces spec.template. A pod's controller-revision-hash label is the
// name of the revision it was made from.

// revisionData is the patch recording set's pod template:
// {"spec":{"template":{…,"$patch":"replace"}}}, its keys sorted.
func revisionData(set *appsv1.StatefulSet) ([]byte, error) {
	raw, err := json.Marshal(&set.Spec.Template)
	if err != nil {
		return nil, err
	}
	var template map[string]any
	if err := json.Unmarshal(raw, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

func revisionName(prefix, hash string) string {
	if len(prefix) > 223 {
		prefix = prefix[:223]
	}
	return prefix + "-" + hash
}

// newRevision is the revision recording set's current template, not yet
// created: owned by set, labelled with the template's labels and the hash,
// annotated with the set's annotations.
func newRevision(set *appsv1.StatefulSet, revision int64, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	data, err := revisionData(set)
	if err != nil {
		return nil, err
	}
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       set.Namespace,
			Labels:          maps.Clone(set.Spec.Template.Labels),
			Annotations:     maps.Clone(set.Annotations),
			OwnerReferences: []metav1.OwnerReference{apiserver.OwnerReference(set)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}
	if cr.Labels == nil {
		cr.Labels = map[string]string{}
	}
	hash := kube.HashControllerRevision(data, collisionCount)
	cr.Name = revisionName(set.Name, hash)
	cr.Labels[controllerRevisionHashLabel] = hash
	return cr, nil
}

// controllerRevisionHashLabel is the history package's label for the hash of
// a revision's data (not the pods' controller-revision-hash).
const controllerRevisionHashLabel = "controller.kubernetes.io/hash"

func equalRevision(a, b *appsv1.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.Data.Raw, b.Data.Raw)
}

// sortRevisions orders by revision number, then creation time, then name
// (stable).
func sortRevisions(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

func nextRevision(sorted []*appsv1.ControllerRevision) int64 {
	if len(sorted) == 0 {
		return 1
	}
	return sorted[len(sorted)-1].Revision + 1
}

// applyRevision is set with the pod template the revision recorded.
func applyRevision(set *appsv1.StatefulSet, rev *appsv1.ControllerRevision) (*appsv1.StatefulSet, error) {
	var patch struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &patch); err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev.Name, err)
	}
	out := set.DeepCopy()
	if patch.Spec.Template != nil {
		out.Spec.Template = *patch.Spec.Template
	}
	return out, nil
}

// listRevisions: the revisions in the cache controlled by set or by nobody,
// matching its selector.
func (c *Controller) listRevisions(set *appsv1.StatefulSet, selector labels.Selector) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, key := range []string{controller.OwnedIndexKey(set, apiserver.StatefulSets), set.Namespace} {
		for _, o := range c.revisions.ByIndex(controller.IndexController, key) {
			cr := o.(*appsv1.ControllerRevision)
			if !selector.Matches(labels.Set(cr.Labels)) {
				continue
			}
			if ref := metav1.GetControllerOfNoCopy(cr); ref == nil || ref.UID == set.UID {
				out = append(out, cr)
			}
		}
	}
	return out
}

// adoptOrphanRevisions gives set the orphan revisions its selector matches,
// after one uncached read of the set (as pod adoption).
func (c *Controller) adoptOrphanRevisions(set *appsv1.StatefulSet, selector labels.Selector) error {
	var orphans []*appsv1.ControllerRevision
	for _, cr := range c.listRevisions(set, selector) {
		if metav1.GetControllerOfNoCopy(cr) == nil {
			orphans = append(orphans, cr)
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	if err := c.canAdopt(set)(); err != nil {
		return fmt.Errorf("can't adopt ControllerRevisions: %w", err)
	}
	for _, cr := range orphans {
		patch, err := controller.AdoptPatch(set, controllerKind, cr.UID)
		if err != nil {
			return err
		}
		if _, err := c.ctx.Client().Patch(apiserver.ControllerRevisions, cr.Namespace, cr.Name, types.StrategicMergePatchType, patch, ""); err != nil {
			return err
		}
	}
	return nil
}

// revisionsFor returns the set's current and update revisions, creating the
// update revision if its template is new, or renumbering an older equal one
// (a rollback) to the next revision. It also returns the collision count.
func (c *Controller) revisionsFor(set *appsv1.StatefulSet, revs []*appsv1.ControllerRevision) (current, update *appsv1.ControllerRevision, collisionCount int32, err error) {
	if set.Status.CollisionCount != nil {
		collisionCount = *set.Status.CollisionCount
	}
	update, err = newRevision(set, nextRevision(revs), &collisionCount)
	if err != nil {
		return nil, nil, collisionCount, err
	}
	var equal []*appsv1.ControllerRevision
	for _, r := range revs {
		if equalRevision(r, update) {
			equal = append(equal, r)
		}
	}
	switch {
	case len(equal) > 0 && equalRevision(revs[len(revs)-1], equal[len(equal)-1]):
		update = revs[len(revs)-1] // unchanged
	case len(equal) > 0:
		update, err = c.renumberRevision(equal[len(equal)-1], update.Revision) // a rollback
		if err != nil {
			return nil, nil, collisionCount, err
		}
	default:
		update, err = c.createRevision(set, update, &collisionCount)
		if err != nil {
			return nil, nil, collisionCount, err
		}
	}
	for _, r := range revs {
		if r.Name == set.Status.CurrentRevision {
			current = r
			break
		}
	}
	if current == nil {
		current = update
	}
	return current, update, collisionCount, nil
}

// createRevision creates the revision; on a name taken by other data it
// counts a collision and tries the next name.
func (c *Controller) createRevision(set *appsv1.StatefulSet, rev *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	clone := rev.DeepCopy()
	for {
		clone.Name = revisionName(set.Name, kube.HashControllerRevision(rev.Data.Raw, collisionCount))
		created, err := c.ctx.Client().Create(clone.DeepCopy())
		if err == nil {
			return created.(*appsv1.ControllerRevision), nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, err
		}
		obj, err := c.ctx.Client().Get(apiserver.ControllerRevisions, set.Namespace, clone.Name)
		if err != nil {
			return nil, err
		}
		if exists := obj.(*appsv1.ControllerRevision); bytes.Equal(exists.Data.Raw, clone.Data.Raw) {
			return exists, nil
		}
		*collisionCount++
	}
}

// renumberRevision sets an existing revision's number, retrying conflicts
// with the cached copy (client-go's DefaultBackoff: 4 tries).
func (c *Controller) renumberRevision(rev *appsv1.ControllerRevision, revision int64) (*appsv1.ControllerRevision, error) {
	clone := rev.DeepCopy()
	err := c.ctx.RetryOnConflict(controller.DefaultBackoff, func() error {
		if clone.Revision == revision {
			return nil
		}
		clone.Revision = revision
		updated, err := c.ctx.Client().Update(clone)
		if err == nil {
			clone = updated.(*appsv1.ControllerRevision)
			return nil
		}
		if cached := c.revisions.Get(clone.Namespace, clone.Name); cached != nil {
			clone = cached.DeepCopyObject().(*appsv1.ControllerRevision)
		}
		return err
	})
	return clone, err
}

// truncateHistory deletes the oldest revisions that no pod, nor the current
// or update revision, uses, beyond spec.revisionHistoryLimit. revs is sorted.
func (c *Controller) truncateHistory(set *appsv1.StatefulSet, pods []*corev1.Pod, revs []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) error {
	for _, r := range historyToDelete(set, pods, revs, current, update) {
		if err := c.ctx.Client().Delete(apiserver.ControllerRevisions, r.Namespace, r.Name, nil); err != nil {
			return err
		}
	}
	return nil
}

func historyToDelete(set *appsv1.StatefulSet, pods []*corev1.Pod, revs []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	live := map[string]bool{}
	if current != nil {
		live[current.Name] = true
	}
	if update != nil {
		live[update.Name] = true
	}
	for _, p := range pods {
		live[podRevision(p)] = true
	}
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			old = append(old, r)
		}
	}
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	if limit < 0 || len(old) <= limit {
		return nil
	}
	return old[:len(old)-limit]
}
