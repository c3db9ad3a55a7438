// Package operator is a ReplicaSet operator written with controller-runtime,
// the way an operator author writes one: nothing in it knows about ctrlsim.
//
// It keeps spec.replicas pods for every ReplicaSet: it adopts matching
// orphans, releases pods that stop matching, creates the missing pods from
// the template (generateName, a controller reference) and deletes the
// surplus (not-ready first, then the newest), and writes the status
// (replicas, readyReplicas, availableReplicas, observedGeneration). Pods
// being deleted are neither counted, adopted nor deleted again.
package operator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// ownerKey indexes pods by the uid of the ReplicaSet that controls them.
const ownerKey = ".metadata.controller.replicaset"

// Name is the name the operator records events under.
const Name = "rs-operator"

// ReplicaSetReconciler reconciles apps/v1 ReplicaSets.
type ReplicaSetReconciler struct {
	// Client reads from the manager's cache and writes to the API server.
	client.Client
	// APIReader reads from the API server: the ReplicaSet and its pods,
	// what a decision is made from (see Reconcile).
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder // optional
}

// SetupWithManager registers the operator with mgr: the pod index, and a
// controller for ReplicaSets that also watches the pods they own, and
// orphans (which a ReplicaSet whose selector matches them adopts).
func SetupWithManager(mgr ctrl.Manager) error {
	r := &ReplicaSetReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder(Name)}
	return r.SetupWithManager(mgr)
}

// SetupWithManager registers r with mgr.
func (r *ReplicaSetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, ownerKey, func(obj client.Object) []string {
		ref := metav1.GetControllerOf(obj)
		if ref == nil || ref.Kind != "ReplicaSet" || !strings.HasPrefix(ref.APIVersion, appsv1.GroupName+"/") {
			return nil
		}
		return []string{string(ref.UID)}
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&appsv1.ReplicaSet{}).
		Owns(&corev1.Pod{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.replicaSetsForOrphan)).
		Complete(r)
}

// replicaSetsForOrphan maps a pod without a controller to the ReplicaSets
// whose selector matches it.
func (r *ReplicaSetReconciler) replicaSetsForOrphan(ctx context.Context, obj client.Object) []reconcile.Request {
	if metav1.GetControllerOf(obj) != nil || obj.GetDeletionTimestamp() != nil {
		return nil
	}
	var list appsv1.ReplicaSetList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		logf.FromContext(ctx).Error(err, "listing ReplicaSets for an orphan pod", "pod", client.ObjectKeyFromObject(obj))
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		rs := &list.Items[i]
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() || rs.DeletionTimestamp != nil {
			continue
		}
		if sel.Matches(labels.Set(obj.GetLabels())) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(rs)})
		}
	}
	return out
}

// Reconcile brings one ReplicaSet's pods to spec.replicas and writes its
// status. An error requeues it (with backoff).
func (r *ReplicaSetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)

	// What it decides on, it reads from the API server: the ReplicaSet and
	// the pods its selector matches. The cache lags behind (a watch may be
	// seconds late), and a decision from it would create pods for a
	// spec.replicas already scaled down, or pods it created a moment ago.
	var rs appsv1.ReplicaSet
	if err := r.APIReader.Get(ctx, req.NamespacedName, &rs); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil // deleted: the garbage collector takes its pods
		}
		return ctrl.Result{}, err
	}
	if rs.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || selector.Empty() {
		log.Error(err, "invalid selector: nothing to do until the ReplicaSet changes")
		return ctrl.Result{}, nil
	}

	// Release the pods it controls that its selector no longer matches.
	var owned corev1.PodList
	if err := r.List(ctx, &owned, client.InNamespace(rs.Namespace), client.MatchingFields{ownerKey: string(rs.UID)}); err != nil {
		return ctrl.Result{}, err
	}
	for i := range owned.Items {
		pod := &owned.Items[i]
		if pod.DeletionTimestamp == nil && !selector.Matches(labels.Set(pod.Labels)) {
			if err := r.release(ctx, &rs, pod); err != nil {
				return ctrl.Result{}, err
			}
		}
	}

	var matching corev1.PodList
	if err := r.APIReader.List(ctx, &matching, client.InNamespace(rs.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return ctrl.Result{}, err
	}
	var active []*corev1.Pod
	rechecked := false
	for i := range matching.Items {
		pod := &matching.Items[i]
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		switch ref := metav1.GetControllerOf(pod); {
		case ref == nil:
			if !rechecked {
				// A ReplicaSet being deleted with propagationPolicy=Orphan
				// has its pods orphaned by the garbage collector, and
				// adopting them back would get them deleted with it: look
				// again, now that the pods were read.
				if ok, err := r.canAdopt(ctx, &rs); !ok || err != nil {
					return ctrl.Result{}, client.IgnoreNotFound(err)
				}
				rechecked = true
			}
			if err := r.adopt(ctx, &rs, pod); err != nil {
				if apierrors.IsNotFound(err) {
					continue // gone meanwhile
				}
				return ctrl.Result{}, err
			}
		case ref.UID != rs.UID:
			continue // another controller's
		}
		active = append(active, pod)
	}

	// Creates and deletes go out at once, not one after the other: a
	// decision is only as old as one request.
	want := int(ptr.Deref(rs.Spec.Replicas, 1))
	switch {
	case len(active) < want:
		created := make([]*corev1.Pod, want-len(active))
		if err := inParallel(len(created), func(i int) (err error) {
			created[i], err = r.createPod(ctx, &rs)
			return err
		}); err != nil {
			return ctrl.Result{}, err
		}
		active = append(active, created...)
	case len(active) > want:
		// Not-ready pods go first, then the newest.
		slices.SortStableFunc(active, func(a, b *corev1.Pod) int {
			if ra, rb := isReady(a), isReady(b); ra != rb {
				if !ra {
					return -1
				}
				return 1
			}
			if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
				return c
			}
			return strings.Compare(b.Name, a.Name)
		})
		surplus := active[:len(active)-want]
		if err := inParallel(len(surplus), func(i int) error {
			pod := surplus[i]
			if err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			r.event(&rs, pod, corev1.EventTypeNormal, "SuccessfulDelete", "Delete", "Deleted pod: %s", pod.Name)
			return nil
		}); err != nil {
			return ctrl.Result{}, err
		}
		active = active[len(surplus):]
	}

	return r.updateStatus(ctx, &rs, active)
}

// canAdopt reads rs from the API server: it may adopt pods if it is the same
// ReplicaSet (uid) and is not being deleted.
func (r *ReplicaSetReconciler) canAdopt(ctx context.Context, rs *appsv1.ReplicaSet) (bool, error) {
	var fresh appsv1.ReplicaSet
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(rs), &fresh); err != nil {
		return false, err
	}
	return fresh.UID == rs.UID && fresh.DeletionTimestamp == nil, nil
}

// adopt makes rs the pod's controller. The patch carries the pod's
// resourceVersion: if another controller adopted it meanwhile, it fails
// (409) and the ReplicaSet is reconciled again.
func (r *ReplicaSetReconciler) adopt(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	patch := client.MergeFromWithOptions(pod.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if err := controllerutil.SetControllerReference(rs, pod, r.Scheme); err != nil {
		return err
	}
	return r.Patch(ctx, pod, patch)
}

// release removes rs's controller reference from the pod, which keeps
// running (for debugging, say).
func (r *ReplicaSetReconciler) release(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	patch := client.MergeFromWithOptions(pod.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if err := controllerutil.RemoveControllerReference(rs, pod, r.Scheme); err != nil {
		return err
	}
	if err := r.Patch(ctx, pod, patch); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

func (r *ReplicaSetReconciler) createPod(ctx context.Context, rs *appsv1.ReplicaSet) (*corev1.Pod, error) {
	tmpl := rs.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:    rs.Namespace,
			GenerateName: rs.Name + "-",
			Labels:       tmpl.Labels,
			Annotations:  tmpl.Annotations,
		},
		Spec: tmpl.Spec,
	}
	if err := controllerutil.SetControllerReference(rs, pod, r.Scheme); err != nil {
		return nil, err
	}
	if err := r.Create(ctx, pod); err != nil {
		r.event(rs, nil, corev1.EventTypeWarning, "FailedCreate", "Create", "Error creating: %v", err)
		return nil, fmt.Errorf("creating a pod: %w", err)
	}
	r.event(rs, pod, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod: %s", pod.Name)
	return pod, nil
}

// updateStatus writes the status the pods give, if it changed. Pods become
// available minReadySeconds after they become ready: until every ready pod
// is, the ReplicaSet is looked at again when the next one will be.
func (r *ReplicaSetReconciler) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, active []*corev1.Pod) (ctrl.Result, error) {
	now := time.Now()
	minReady := time.Duration(rs.Spec.MinReadySeconds) * time.Second
	var ready, available int32
	var next time.Duration
	for _, pod := range active {
		if !isReady(pod) {
			continue
		}
		ready++
		since := readySince(pod)
		if minReady == 0 || !since.Add(minReady).After(now) {
			available++
		} else if wait := since.Add(minReady).Sub(now); next == 0 || wait < next {
			next = wait
		}
	}
	status := rs.Status.DeepCopy()
	status.Replicas = int32(len(active))
	status.ReadyReplicas = ready
	status.AvailableReplicas = available
	status.ObservedGeneration = rs.Generation
	var fully int32
	for _, pod := range active {
		if equalLabels(pod.Labels, rs.Spec.Template.Labels) {
			fully++
		}
	}
	status.FullyLabeledReplicas = fully
	if !statusEqual(status, &rs.Status) {
		rs.Status = *status
		if err := r.Status().Update(ctx, rs); err != nil {
			if apierrors.IsNotFound(err) {
				return ctrl.Result{}, nil
			}
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

func (r *ReplicaSetReconciler) event(rs *appsv1.ReplicaSet, related *corev1.Pod, eventType, reason, action, note string, args ...any) {
	if r.Recorder == nil {
		return
	}
	var rel runtime.Object
	if related != nil {
		rel = related
	}
	r.Recorder.Eventf(rs, rel, eventType, reason, action, note, args...)
}

// inParallel calls fn(0), …, fn(n-1) at once and returns the first error.
func inParallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func isReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func readySince(pod *corev1.Pod) time.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

func equalLabels(pod, template map[string]string) bool {
	for k, v := range template {
		if pod[k] != v {
			return false
		}
	}
	return true
}

func statusEqual(a, b *appsv1.ReplicaSetStatus) bool {
	return a.Replicas == b.Replicas && a.ReadyReplicas == b.ReadyReplicas && a.AvailableReplicas == b.AvailableReplicas &&
		a.FullyLabeledReplicas == b.FullyLabeledReplicas && a.ObservedGeneration == b.ObservedGeneration
}
