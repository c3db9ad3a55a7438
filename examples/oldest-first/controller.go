// Package oldestfirst is a ReplicaSet controller written from scratch against
// ctrlsim's public controller API, the way you would write your own to test
// it: it does not import ctrlsim's ReplicaSet model.
//
// It keeps the pods of every ReplicaSet at spec.replicas: it adopts matching
// orphans, releases pods whose labels stop matching, creates the missing pods
// and writes status. When it has too many pods it deletes the oldest first
// (earliest creationTimestamp, then name), whatever their readiness, node or
// pod-deletion-cost: that is the variant under test. Upstream's controller
// deletes unscheduled, pending and not-ready pods first and keeps the pods a
// user marked expensive.
//
// It uses simple expectations, as upstream does, because an informer cache is
// stale by construction: after creating or deleting pods, a sync does not act
// again on the same ReplicaSet until its informer has seen those pods come or
// go (or five minutes have passed). Without them a sync that runs before the
// cache caught up would create the same pods twice; the rs-chaos-stale-cache
// scenario (expect maxOvershoot: 0) fails a controller that has none.
//
// Differences from upstream's controller, on purpose, to keep it short: all
// missing pods of a sync are created at once (no slow-start batches), status
// has no ReplicaFailure condition and no terminatingReplicas, and there is no
// check that the cache has caught up with the controller's own status writes.
//
// Importing the package registers the strategy "example-oldest-first"
// (upstream's controllers with this one in place of the ReplicaSet
// controller); see Strategy.
package oldestfirst

import (
	"fmt"
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

// Options configure the controller. The zero value is fine.
type Options struct {
	// Workers is the number of sync workers (coroutines). Default 2.
	Workers int
	// Burst caps the pods created or deleted in one sync. Default 500.
	Burst int
	// Trace receives every scale-down decision (may be nil).
	Trace *trace.Recorder
}

// Controller is one running instance.
type Controller struct {
	ctx    *controller.Context
	opts   Options
	rsets  *controller.Informer
	pods   *controller.Informer
	queue  *controller.Queue[string]
	expect *expectations
}

// indexOrphans keys the pods without a controller by their namespace: a sync
// looks at the orphans of its namespace without walking every pod.
const indexOrphans = "orphans"

// Start starts the controller in ctx and returns at once: its workers run as
// coroutines of ctx once the informers have synced. Its name in the history,
// in failures and in the decision trace is ctx.Name().
func Start(ctx *controller.Context, opts Options) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Burst <= 0 {
		opts.Burst = 500
	}
	c := &Controller{
		ctx:    ctx,
		opts:   opts,
		rsets:  ctx.Informer(apiserver.ReplicaSets),
		pods:   ctx.Informer(apiserver.Pods),
		queue:  controller.NewQueue[string](ctx.World(), ctx.Name(), nil), // client-go's default rate limiter
		expect: newExpectations(),
	}
	c.pods.AddIndex(indexOrphans, func(obj apiserver.Object) []string {
		if metav1.GetControllerOfNoCopy(obj) != nil {
			return nil
		}
		return []string{obj.GetNamespace()}
	})
	c.rsets.AddHandler(controller.Handler{
		OnAdd: c.enqueue,
		OnUpdate: func(old, cur apiserver.Object) {
			if old.GetUID() != cur.GetUID() {
				c.expect.forget(keyOf(old)) // deleted and created again under the same name
			}
			c.enqueue(cur)
		},
		OnDelete: func(obj apiserver.Object) {
			c.expect.forget(keyOf(obj))
			c.enqueue(obj)
		},
	})
	c.pods.AddHandler(controller.Handler{OnAdd: c.podAdded, OnUpdate: c.podUpdated, OnDelete: c.podDeleted})
	ctx.Go("run", func() {
		c.rsets.WaitForCacheSync()
		c.pods.WaitForCacheSync()
		for i := range opts.Workers {
			ctx.Go(fmt.Sprintf("worker-%d", i), c.worker)
		}
	})
	return c
}

// --- event handlers: they run outside coroutines and must not block, so
// they only look at the cache, note what they saw and enqueue keys. ---

func keyOf(obj metav1.Object) string { return obj.GetNamespace() + "/" + obj.GetName() }

func (c *Controller) enqueue(obj apiserver.Object) { c.queue.Add(keyOf(obj)) }

// owner is the cached ReplicaSet a pod's controller reference points to, or
// nil when it has none or it is not a ReplicaSet we know (by name and uid).
func (c *Controller) owner(pod *corev1.Pod) *appsv1.ReplicaSet {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return nil
	}
	obj := c.rsets.Get(pod.Namespace, ref.Name)
	if obj == nil || obj.GetUID() != ref.UID {
		return nil
	}
	return obj.(*appsv1.ReplicaSet)
}

// enqueueSelecting enqueues every ReplicaSet whose selector matches an orphan
// pod: one of them may adopt it.
func (c *Controller) enqueueSelecting(pod *corev1.Pod) {
	for _, obj := range c.rsets.List(pod.Namespace, nil) {
		sel, err := metav1.LabelSelectorAsSelector(obj.(*appsv1.ReplicaSet).Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			c.enqueue(obj)
		}
	}
}

func (c *Controller) podAdded(obj apiserver.Object) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.podDeleted(pod) // seen for the first time while terminating
		return
	}
	if rs := c.owner(pod); rs != nil {
		c.expect.created(keyOf(rs))
		c.enqueue(rs)
		return
	}
	if metav1.GetControllerOfNoCopy(pod) == nil {
		c.enqueueSelecting(pod)
	}
}

func (c *Controller) podUpdated(oldObj, curObj apiserver.Object) {
	old, cur := oldObj.(*corev1.Pod), curObj.(*corev1.Pod)
	if cur.DeletionTimestamp != nil {
		c.podDeleted(cur) // a graceful delete has begun: that is the deletion we expected
	}
	// The old and the new owner both have something to reconcile (a release,
	// an adoption, a readiness change for status).
	if rs := c.owner(old); rs != nil {
		c.enqueue(rs)
	}
	if rs := c.owner(cur); rs != nil {
		c.enqueue(rs)
	} else if metav1.GetControllerOfNoCopy(cur) == nil {
		c.enqueueSelecting(cur)
	}
	if rs := c.owner(cur); rs != nil && rs.Spec.MinReadySeconds > 0 && !kube.IsPodReady(old) && kube.IsPodReady(cur) {
		// Available minReadySeconds after ready: look again then.
		c.queue.AddAfter(keyOf(rs), time.Duration(rs.Spec.MinReadySeconds)*time.Second)
	}
}

func (c *Controller) podDeleted(obj apiserver.Object) {
	pod := obj.(*corev1.Pod)
	if rs := c.owner(pod); rs != nil {
		c.expect.deleted(keyOf(rs), pod.UID)
		c.enqueue(rs)
	}
}

// --- workers: coroutines, free to block on the queue and the API. ---

func (c *Controller) worker() {
	for {
		key, shutdown := c.queue.Get()
		if shutdown {
			return
		}
		if err := c.sync(key); err != nil {
			c.queue.AddRateLimited(key) // retry with per-key exponential backoff
		} else {
			c.queue.Forget(key)
		}
		c.queue.Done(key)
	}
}

func podActive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}
