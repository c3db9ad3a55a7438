package controller

import (
	"reflect"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// OwnerHandler is the handler a controller puts on the informer of the kind
// it reconciles: every event enqueues the object's key. forget, if not nil,
// is called with the key and uid of an object deleted, or replaced by
// another of the same name (seen as an update with a new uid), before that
// enqueue, for the controller to drop what it remembers of it (expectations,
// consistency records).
func OwnerHandler(q *Queue[string], forget func(key string, uid types.UID)) Handler {
	deleted := func(obj apiserver.Object) {
		key := KeyFunc(obj)
		if forget != nil {
			forget(key, obj.GetUID())
		}
		q.Add(key)
	}
	return Handler{
		OnAdd: func(obj apiserver.Object) { q.Add(KeyFunc(obj)) },
		OnUpdate: func(old, cur apiserver.Object) {
			if forget != nil && old.GetUID() != cur.GetUID() {
				deleted(old)
			}
			q.Add(KeyFunc(cur))
		},
		OnDelete: deleted,
	}
}

// Owners finds, in the cache of one owner kind, the owners of dependent
// objects (pods, ReplicaSets, ControllerRevisions): upstream's
// resolveControllerRef and its Get<Owner>sFor<Dependent> listers.
type Owners[T metav1.Object] struct {
	Kind     apiserver.Kind // the kind controller references name
	Informer *Informer
	// Convert reads a cached owner as the controller does; nil is a type
	// assertion.
	Convert  func(apiserver.Object) T
	Selector func(T) *metav1.LabelSelector
	// SkipUnlabelled: a dependent without labels is selected by no owner,
	// as upstream's listers have it. Without it an unlabelled dependent is
	// matched against each selector.
	SkipUnlabelled bool
}

func (o *Owners[T]) convert(obj apiserver.Object) T {
	if o.Convert != nil {
		return o.Convert(obj)
	}
	return obj.(T)
}

// Resolve returns the owner ref points to if it is of the kind and in the
// cache with ref's uid (resolveControllerRef).
func (o *Owners[T]) Resolve(namespace string, ref *metav1.OwnerReference) (owner T, ok bool) {
	if ref == nil || ref.Kind != string(o.Kind) {
		return owner, false
	}
	obj := o.Informer.Get(namespace, ref.Name)
	if obj == nil || obj.GetUID() != ref.UID {
		return owner, false
	}
	return o.convert(obj), true
}

// Selecting lists the owners in namespace whose selector matches lbls, in
// the cache's order (an empty or invalid selector matches nothing).
func (o *Owners[T]) Selecting(namespace string, lbls map[string]string) []T {
	if o.SkipUnlabelled && len(lbls) == 0 {
		return nil
	}
	var out []T
	for _, obj := range o.Informer.List(namespace, nil) {
		owner := o.convert(obj)
		sel, err := metav1.LabelSelectorAsSelector(o.Selector(owner))
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(lbls)) {
			continue
		}
		out = append(out, owner)
	}
	return out
}

// Terminating is how a DependentHandler takes an update that gives the
// dependent a deletionTimestamp.
type Terminating int

const (
	// TerminatingAsUpdate: like any other update.
	TerminatingAsUpdate Terminating = iota
	// TerminatingAsDelete: as the dependent's deletion, so that the owner's
	// expectations count it at once (the DaemonSet controller).
	TerminatingAsDelete
	// TerminatingAsDeleteOfBoth: as the deletion of the current object and,
	// when its labels changed, of the old one too, whose owner may be
	// another (the ReplicaSet controller).
	TerminatingAsDeleteOfBoth
)

// DependentHandler turns the events of an owner's dependents into enqueues
// of the owners they concern, as upstream's addPod, updatePod and deletePod
// (and their ReplicaSet and ControllerRevision forms) do. A dependent with a
// controller reference concerns that owner only, if it resolves; an orphan
// concerns every owner that selects it, so that one of them adopts it.
type DependentHandler[T metav1.Object] struct {
	Owners      *Owners[T]
	Queue       *Queue[string]
	Terminating Terminating
	// Optional hooks, for an owner that resolves. Added and Deleted run
	// before its enqueue (expectations' CreationObserved and
	// DeletionObserved), Updated after it (a requeue once a pod may be
	// available).
	Added   func(owner T, obj apiserver.Object)
	Deleted func(owner T, obj apiserver.Object)
	Updated func(owner T, old, cur apiserver.Object)
}

// Handler returns the informer handler.
func (h *DependentHandler[T]) Handler() Handler {
	return Handler{OnAdd: h.Add, OnUpdate: h.Update, OnDelete: h.Delete}
}

func (h *DependentHandler[T]) enqueue(owner T) { h.Queue.Add(KeyFunc(owner)) }

// EnqueueSelecting enqueues every owner that selects obj.
func (h *DependentHandler[T]) EnqueueSelecting(obj apiserver.Object) {
	for _, owner := range h.Owners.Selecting(obj.GetNamespace(), obj.GetLabels()) {
		h.enqueue(owner)
	}
}

// Add handles a new dependent; one already being deleted as its deletion.
func (h *DependentHandler[T]) Add(obj apiserver.Object) {
	if obj.GetDeletionTimestamp() != nil {
		h.Delete(obj)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if owner, ok := h.Owners.Resolve(obj.GetNamespace(), ref); ok {
			if h.Added != nil {
				h.Added(owner, obj)
			}
			h.enqueue(owner)
		}
		return
	}
	h.EnqueueSelecting(obj)
}

// Update handles a changed dependent: its old controller too when the
// reference changed, and the owners selecting an orphan whose labels or
// reference changed. A resync (the same resourceVersion) is ignored.
func (h *DependentHandler[T]) Update(old, cur apiserver.Object) {
	if old.GetResourceVersion() == cur.GetResourceVersion() {
		return
	}
	labelChanged := !reflect.DeepEqual(old.GetLabels(), cur.GetLabels())
	if cur.GetDeletionTimestamp() != nil && h.Terminating != TerminatingAsUpdate {
		h.Delete(cur)
		if labelChanged && h.Terminating == TerminatingAsDeleteOfBoth {
			h.Delete(old)
		}
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if owner, ok := h.Owners.Resolve(old.GetNamespace(), oldRef); ok {
			h.enqueue(owner)
		}
	}
	if curRef != nil {
		if owner, ok := h.Owners.Resolve(cur.GetNamespace(), curRef); ok {
			h.enqueue(owner)
			if h.Updated != nil {
				h.Updated(owner, old, cur)
			}
		}
		return
	}
	if labelChanged || refChanged {
		h.EnqueueSelecting(cur)
	}
}

// Delete handles a dependent gone (or, per Terminating, going).
func (h *DependentHandler[T]) Delete(obj apiserver.Object) {
	owner, ok := h.Owners.Resolve(obj.GetNamespace(), metav1.GetControllerOfNoCopy(obj))
	if !ok {
		return
	}
	if h.Deleted != nil {
		h.Deleted(owner, obj)
	}
	h.enqueue(owner)
}
