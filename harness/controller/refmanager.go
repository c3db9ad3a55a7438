package controller

import (
	"encoding/json"
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// PatchFunc sends a strategic merge patch to one object (upstream's
// PodControl.PatchPod, RSControl.PatchReplicaSet and
// ControllerRevisionControl.PatchControllerRevision in one).
type PatchFunc func(kind apiserver.Kind, namespace, name string, patch []byte) error

// PatchThrough is a PatchFunc that sends patches through c; onWrite, if not
// nil, is given each object a patch returns (the consistency check's hook).
func PatchThrough(c *Client, onWrite func(apiserver.Object)) PatchFunc {
	return func(kind apiserver.Kind, namespace, name string, patch []byte) error {
		obj, err := c.Patch(kind, namespace, name, types.StrategicMergePatchType, patch, "")
		if err == nil && onWrite != nil {
			onWrite(obj)
		}
		return err
	}
}

// RefManager is upstream's controller-ref manager (BaseControllerRefManager
// with its Pod, ReplicaSet and ControllerRevision forms): it claims objects
// for one owner, keeping the owner's objects that match, releasing those
// that stopped matching and adopting matching orphans.
//
// Make a new one for every sync: as upstream's, it checks whether the owner
// may adopt (CanAdopt) at most once, before its first adoption, so that an
// owner deleted since the cache last saw it adopts nothing.
type RefManager struct {
	owner     metav1.Object
	ownerKind schema.GroupVersionKind
	selector  labels.Selector
	patch     PatchFunc

	canAdopt     func() error
	canAdoptErr  error
	canAdoptDone bool
}

// NewRefManager returns a manager claiming for owner, an object of
// ownerKind selecting with selector. Patches go through patch. canAdopt
// (usually RecheckDeletionTimestamp) is called at most once, on the first
// adoption; nil allows every adoption.
func NewRefManager(owner metav1.Object, ownerKind schema.GroupVersionKind, selector labels.Selector, patch PatchFunc, canAdopt func() error) *RefManager {
	return &RefManager{owner: owner, ownerKind: ownerKind, selector: selector, patch: patch, canAdopt: canAdopt}
}

// CanAdopt runs the canAdopt check the first time it is called and returns
// its result every time.
func (m *RefManager) CanAdopt() error {
	if !m.canAdoptDone {
		m.canAdoptDone = true
		if m.canAdopt != nil {
			m.canAdoptErr = m.canAdopt()
		}
	}
	return m.canAdoptErr
}

// ClaimObject is upstream's ClaimObject: it reports whether the owner
// controls obj (of kind) once it returns, adopting or releasing obj as
// match says. An owner being deleted keeps what it has and changes
// nothing; an object being deleted is not adopted.
func (m *RefManager) ClaimObject(obj metav1.Object, kind apiserver.Kind, match func(metav1.Object) bool) (bool, error) {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if ref.UID != m.owner.GetUID() {
			return false, nil // someone else's
		}
		if match(obj) {
			// Ours, even while the owner is being deleted: that takes no action.
			return true, nil
		}
		if m.owner.GetDeletionTimestamp() != nil {
			return false, nil
		}
		if err := m.Release(obj, kind); err != nil && !apierrors.IsNotFound(err) {
			return false, err // someone else released it, or a transient error: retry
		}
		return false, nil
	}
	// An orphan.
	if m.owner.GetDeletionTimestamp() != nil || !match(obj) || obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	if ns := m.owner.GetNamespace(); ns != "" && ns != obj.GetNamespace() {
		return false, nil
	}
	if err := m.Adopt(obj, kind); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err // someone else claimed it first, or a transient error: retry
	}
	return true, nil
}

// ClaimPods claims pods: those the selector and every filter match are the
// owner's. It returns the pods the owner now controls and the errors of
// the adoptions and releases that failed.
func (m *RefManager) ClaimPods(pods []*corev1.Pod, filters ...func(*corev1.Pod) bool) ([]*corev1.Pod, error) {
	match := func(obj metav1.Object) bool {
		pod := obj.(*corev1.Pod)
		if !m.selector.Matches(labels.Set(pod.Labels)) {
			return false // the selector first, so filters see only candidates
		}
		for _, f := range filters {
			if !f(pod) {
				return false
			}
		}
		return true
	}
	return claim(m, pods, apiserver.Pods, match)
}

// ClaimReplicaSets claims ReplicaSets by the selector.
func (m *RefManager) ClaimReplicaSets(sets []*appsv1.ReplicaSet) ([]*appsv1.ReplicaSet, error) {
	return claim(m, sets, apiserver.ReplicaSets, m.matchLabels)
}

// ClaimControllerRevisions claims ControllerRevisions by the selector.
func (m *RefManager) ClaimControllerRevisions(revisions []*appsv1.ControllerRevision) ([]*appsv1.ControllerRevision, error) {
	return claim(m, revisions, apiserver.ControllerRevisions, m.matchLabels)
}

func (m *RefManager) matchLabels(obj metav1.Object) bool {
	return m.selector.Matches(labels.Set(obj.GetLabels()))
}

func claim[T metav1.Object](m *RefManager, objs []T, kind apiserver.Kind, match func(metav1.Object) bool) ([]T, error) {
	var claimed []T
	var errs []error
	for _, obj := range objs {
		ok, err := m.ClaimObject(obj, kind, match)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			claimed = append(claimed, obj)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

// Adopt makes the owner obj's controller, once CanAdopt allows it. The
// patch is guarded by obj's uid, and the server refuses it if obj has
// another controller by then.
func (m *RefManager) Adopt(obj metav1.Object, kind apiserver.Kind) error {
	if err := m.CanAdopt(); err != nil {
		return fmt.Errorf("can't adopt %s %s/%s (%s): %v", kind, obj.GetNamespace(), obj.GetName(), obj.GetUID(), err)
	}
	patch, err := AdoptPatch(m.owner, m.ownerKind, obj.GetUID())
	if err != nil {
		return err
	}
	return m.patch(kind, obj.GetNamespace(), obj.GetName(), patch)
}

// Release removes the owner's reference from obj. An object that is gone
// (NotFound) or was recreated or no longer has references (Invalid: the
// uid guard or the delete directive fails) is not an error.
func (m *RefManager) Release(obj metav1.Object, kind apiserver.Kind) error {
	patch, err := ReleasePatch(obj.GetUID(), m.owner.GetUID())
	if err != nil {
		return err
	}
	err = m.patch(kind, obj.GetNamespace(), obj.GetName(), patch)
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return err
}

// AdoptPatch is the strategic merge patch that makes owner (of ownerKind)
// the controller of the object with uid, byte for byte upstream's
// (ownerRefControllerPatch): the histories of a model and of upstream's
// controller then compare equal.
func AdoptPatch(owner metav1.Object, ownerKind schema.GroupVersionKind, uid types.UID) ([]byte, error) {
	t := true
	return json.Marshal(adoptPatch{Metadata: adoptMeta{
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion:         ownerKind.GroupVersion().String(),
			Kind:               ownerKind.Kind,
			Name:               owner.GetName(),
			UID:                owner.GetUID(),
			Controller:         &t,
			BlockOwnerDeletion: &t,
		}},
		UID: uid,
	}})
}

type adoptPatch struct {
	Metadata adoptMeta `json:"metadata"`
}

type adoptMeta struct {
	OwnerReferences []metav1.OwnerReference `json:"ownerReferences"`
	UID             types.UID               `json:"uid"`
}

// ReleasePatch is the strategic merge patch that deletes the references to
// owners from the object with uid dependent, byte for byte upstream's
// GenerateDeleteOwnerRefStrategicMergeBytes: the uid first, then one
// {"$patch":"delete","uid":…} per owner.
func ReleasePatch(dependent types.UID, owners ...types.UID) ([]byte, error) {
	refs := make([]map[string]string, len(owners))
	for i, uid := range owners {
		refs[i] = map[string]string{"$patch": "delete", "uid": string(uid)}
	}
	return json.Marshal(releasePatch{Metadata: releaseMeta{UID: dependent, OwnerReferences: refs}})
}

type releasePatch struct {
	Metadata releaseMeta `json:"metadata"`
}

type releaseMeta struct {
	UID             types.UID           `json:"uid"`
	OwnerReferences []map[string]string `json:"ownerReferences"`
}

// RecheckDeletionTimestamp is the usual canAdopt check (upstream's
// RecheckDeletionTimestamp with the controllers' uid check): a quorum GET of
// the owner, which must still be the same object and not being deleted.
func RecheckDeletionTimestamp(c *Client, kind apiserver.Kind, owner metav1.Object) func() error {
	return func() error {
		fresh, err := c.Get(kind, owner.GetNamespace(), owner.GetName())
		if err == nil && fresh.GetUID() != owner.GetUID() {
			err = fmt.Errorf("original %s %s/%s is gone: got uid %s, wanted %s", kind, owner.GetNamespace(), owner.GetName(), fresh.GetUID(), owner.GetUID())
		}
		if err != nil {
			return fmt.Errorf("can't recheck DeletionTimestamp: %v", err)
		}
		if dt := fresh.GetDeletionTimestamp(); dt != nil {
			return fmt.Errorf("%s/%s has just been deleted at %v", owner.GetNamespace(), owner.GetName(), dt)
		}
		return nil
	}
}
