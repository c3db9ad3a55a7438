// Package statefulset models the upstream StatefulSet controller
// (pkg/controller/statefulset, v1.36) on ctrlsim's controller runtime: pods
// with a stable identity per ordinal (<set>-<i>, hostname and subdomain, the
// pod-name and pod-index labels), one PersistentVolumeClaim per claim template
// and ordinal created before the pod, OrderedReady and Parallel pod
// management, at most one pod object per identity, ControllerRevisions with
// the current and update revisions, RollingUpdate with a partition (and, behind
// its feature gate, maxUnavailable) and OnDelete, the claim retention policy,
// adoption and release of pods and revisions, status, and v1.36's
// StaleControllerConsistency check.
//
// Options select named alternatives for comparison (Variants lists them); the
// zero Options is the faithful model.
package statefulset

import (
	"fmt"
	"reflect"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Upstream constants.
const (
	// Workers is --concurrent-statefulset-syncs' default.
	Workers = 5
	// MaxBatchSize caps one slow-start batch of Parallel pod management.
	MaxBatchSize = 500
)

// Options configure the model. The zero value of each field is upstream's
// behaviour (v1.36 with its default feature gates).
type Options struct {
	// Name is the controller's client name in the history, failures and
	// decision trace. Default "statefulset-controller".
	Name string
	// Workers is the number of sync workers. Default 5.
	Workers int
	// MaxUnavailable turns on the MaxUnavailableStatefulSet feature gate
	// (beta, off by default in v1.36): a rolling update takes down up to
	// spec.updateStrategy.rollingUpdate.maxUnavailable pods at once instead
	// of one.
	MaxUnavailable bool
	// NoConsistencyCheck turns off v1.36's StaleControllerConsistency check
	// (wait for the informers to catch up with the controller's own writes
	// before syncing a set again).
	NoConsistencyCheck bool
	// AlwaysParallel manages every set's pods as podManagementPolicy
	// Parallel, whatever its spec says: no ordering, no waiting for Ready or
	// for terminations (the "parallel-always" variant).
	AlwaysParallel bool
	// NoIdentityGuard lets a terminating pod give up its ordinal: the
	// controller replaces it at once, as a ReplicaSet would, while the old
	// pod object still exists. The name <set>-<i> being taken, the
	// replacement is <set>-<i>-<random> with the ordinal's pod-name and
	// pod-index labels; once the old pod is gone it is swapped for a pod
	// with the proper name. This is the at-most-one-pod-per-identity
	// violation the StatefulSet invariant exists to catch (a pod on a lost
	// node keeps running while its replacement starts).
	NoIdentityGuard bool
	// Trace receives every scale-down deletion (may be nil).
	Trace *trace.Recorder
}

// Variant is a named alternative to the faithful model, for strategies.
type Variant struct {
	Name, Summary string
	Options       Options
}

// Variants are the named alternatives a user would compare with upstream.
var Variants = []Variant{
	{"no-identity-guard", "replace a terminating StatefulSet pod at once, under another name, while the old pod object still exists (breaks at most one pod per ordinal)", Options{NoIdentityGuard: true}},
	{"parallel-always", "manage every StatefulSet's pods as podManagementPolicy Parallel: no ordering, no waiting for Ready", Options{AlwaysParallel: true}},
	{"sts-max-unavailable", "the MaxUnavailableStatefulSet feature gate on: rolling updates honour rollingUpdate.maxUnavailable", Options{MaxUnavailable: true}},
}

// Controller is one running StatefulSet controller.
type Controller struct {
	ctx         *controller.Context
	opts        Options
	sets        *controller.Informer
	pods        *controller.Informer
	claims      *controller.Informer
	revisions   *controller.Informer
	queue       *controller.Queue[string]
	consistency *controller.Consistency
}

// Start runs the controller on the harness with its own context.
func Start(api *apiserver.Server, opts Options) *Controller {
	if opts.Name == "" {
		opts.Name = "statefulset-controller"
	}
	return StartWithContext(controller.NewContext(opts.Name, api), opts)
}

// StartWithContext runs the controller in ctx.
func StartWithContext(ctx *controller.Context, opts Options) *Controller {
	if opts.Name == "" {
		opts.Name = ctx.Name()
	}
	if opts.Workers <= 0 {
		opts.Workers = Workers
	}
	c := &Controller{
		ctx: ctx, opts: opts,
		sets:      ctx.Informer(apiserver.StatefulSets),
		pods:      ctx.Informer(apiserver.Pods),
		claims:    ctx.Informer(apiserver.PersistentVolumeClaims),
		revisions: ctx.Informer(apiserver.ControllerRevisions),
		queue:     controller.NewQueue[string](ctx.World(), opts.Name, nil),
	}
	if !opts.NoConsistencyCheck {
		c.consistency = controller.NewConsistency(controller.Watched{Kind: apiserver.Pods, Informer: c.pods},
			controller.Watched{Kind: apiserver.StatefulSets, Informer: c.sets},
			controller.Watched{Kind: apiserver.PersistentVolumeClaims, Informer: c.claims})
	}
	c.pods.AddIndex(indexController, controllerIndex)
	c.revisions.AddIndex(indexController, controllerIndex)
	c.sets.AddHandler(controller.Handler{
		OnAdd:    func(obj apiserver.Object) { c.enqueue(obj) },
		OnUpdate: func(_, cur apiserver.Object) { c.enqueue(cur) },
		OnDelete: func(obj apiserver.Object) { c.enqueue(obj) },
	})
	c.pods.AddHandler(controller.Handler{OnAdd: c.onPodAdd, OnUpdate: c.onPodUpdate, OnDelete: c.onPodDelete})
	ctx.Go("run", func() {
		for _, inf := range []*controller.Informer{c.pods, c.sets, c.claims, c.revisions} {
			inf.WaitForCacheSync()
		}
		for i := 0; i < opts.Workers; i++ {
			ctx.Go(fmt.Sprintf("worker-%d", i), c.worker)
		}
	})
	return c
}

// Stop shuts the work queue down: the workers finish the key in hand and
// exit.
func (c *Controller) Stop() { c.queue.ShutDown() }

// indexController keys objects by their controller reference
// ("ns/Kind/name/uid"), orphans by their namespace alone (upstream's pod and
// ControllerRevision controller indexes).
const indexController = "controller"

func controllerIndex(obj apiserver.Object) []string {
	return []string{controllerIndexKey(obj.GetNamespace(), metav1.GetControllerOfNoCopy(obj))}
}

func controllerIndexKey(namespace string, ref *metav1.OwnerReference) string {
	if ref == nil {
		return namespace
	}
	return namespace + "/" + ref.Kind + "/" + ref.Name + "/" + string(ref.UID)
}

func ownedIndexKey(set *appsv1.StatefulSet) string {
	return set.Namespace + "/" + string(apiserver.StatefulSets) + "/" + set.Name + "/" + string(set.UID)
}

func keyOf(obj metav1.Object) string { return obj.GetNamespace() + "/" + obj.GetName() }

func splitKey(key string) (namespace, name string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}

// --- event handlers: they only enqueue ---

func (c *Controller) enqueue(obj metav1.Object) { c.queue.Add(keyOf(obj)) }

// resolve returns the set a controller reference points to, if it is a
// StatefulSet in the cache with that uid.
func (c *Controller) resolve(namespace string, ref *metav1.OwnerReference) *appsv1.StatefulSet {
	if ref == nil || ref.Kind != string(apiserver.StatefulSets) {
		return nil
	}
	obj := c.sets.Get(namespace, ref.Name)
	if obj == nil || obj.GetUID() != ref.UID {
		return nil
	}
	return obj.(*appsv1.StatefulSet)
}

// setsSelecting lists the sets in the pod's namespace whose selector matches
// it (upstream's GetPodStatefulSets).
func (c *Controller) setsSelecting(pod *corev1.Pod) []*appsv1.StatefulSet {
	var out []*appsv1.StatefulSet
	for _, obj := range c.sets.List(pod.Namespace, nil) {
		set := obj.(*appsv1.StatefulSet)
		sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, set)
	}
	return out
}

func (c *Controller) onPodAdd(obj apiserver.Object) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.onPodDelete(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if set := c.resolve(pod.Namespace, ref); set != nil {
			c.enqueue(set)
		}
		return
	}
	for _, set := range c.setsSelecting(pod) {
		c.enqueue(set)
	}
}

func (c *Controller) onPodUpdate(oldObj, curObj apiserver.Object) {
	old, cur := oldObj.(*corev1.Pod), curObj.(*corev1.Pod)
	if old.ResourceVersion == cur.ResourceVersion {
		return
	}
	labelChanged := !reflect.DeepEqual(old.Labels, cur.Labels)
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if set := c.resolve(old.Namespace, oldRef); set != nil {
			c.enqueue(set)
		}
	}
	if curRef != nil {
		set := c.resolve(cur.Namespace, curRef)
		if set == nil {
			return
		}
		c.enqueue(set)
		if !kube.IsPodReady(old) && kube.IsPodReady(cur) && set.Spec.MinReadySeconds > 0 {
			c.queue.AddAfter(keyOf(set), time.Duration(set.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if labelChanged || refChanged {
		for _, set := range c.setsSelecting(cur) {
			c.enqueue(set)
		}
	}
}

func (c *Controller) onPodDelete(obj apiserver.Object) {
	pod := obj.(*corev1.Pod)
	if set := c.resolve(pod.Namespace, metav1.GetControllerOfNoCopy(pod)); set != nil {
		c.enqueue(set)
	}
}

// --- workers ---

func (c *Controller) worker() {
	for {
		key, quit := c.queue.Get()
		if quit {
			return
		}
		err := c.sync(key)
		c.queue.Done(key)
		if err == nil {
			c.queue.Forget(key)
		} else {
			c.queue.AddRateLimited(key)
		}
	}
}

// sync brings one StatefulSet's pods, claims and revisions towards its spec
// and writes its status.
func (c *Controller) sync(key string) error {
	if c.consistency != nil {
		if err := c.consistency.EnsureReady(key); err != nil {
			return err
		}
	}
	namespace, name := splitKey(key)
	obj := c.sets.Get(namespace, name)
	if obj == nil {
		if c.consistency != nil {
			c.consistency.Clear(key, "")
		}
		return nil
	}
	set := obj.(*appsv1.StatefulSet)
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return nil // an invalid selector does not become valid by retrying
	}
	if err := c.adoptOrphanRevisions(set, selector); err != nil {
		return err
	}
	pods, err := c.claimPods(set, selector)
	if err != nil {
		return err
	}
	now := c.ctx.Now()
	status, err := c.updateStatefulSet(set, pods, now)
	if err != nil {
		return err
	}
	if mrs := set.Spec.MinReadySeconds; mrs > 0 && status != nil && status.ReadyReplicas != status.AvailableReplicas {
		next := time.Duration(mrs) * time.Second
		if soon, ok := kube.FindMinNextPodAvailabilityCheck(pods, mrs, now, c.ctx.Now()); ok {
			next = soon
		}
		c.queue.AddAfter(key, next)
	}
	return nil
}
