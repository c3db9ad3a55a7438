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
	"cmp"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// Run is the model as a strategy's controller (plugin.Controller.Run).
func Run(opts Options) func(*controller.Context, *trace.Recorder) {
	return plugin.Run(opts, StartWithContext)
}

// SetProcess names the controller and sets its trace (plugin.ModelOptions).
func (o *Options) SetProcess(name string, tr *trace.Recorder) { o.Name, o.Trace = name, tr }

// Start runs the controller on the harness with its own context.
func Start(api *apiserver.Server, opts Options) *Controller {
	return StartWithContext(controller.NewContext(cmp.Or(opts.Name, "statefulset-controller"), api), opts)
}

// StartWithContext runs the controller in ctx.
func StartWithContext(ctx *controller.Context, opts Options) *Controller {
	opts.Name = cmp.Or(opts.Name, ctx.Name())
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
	// Pods and revisions are indexed by their controller reference
	// (upstream's pod and ControllerRevision controller indexes).
	c.pods.AddIndex(controller.IndexController, controller.ControllerIndex)
	c.revisions.AddIndex(controller.IndexController, controller.ControllerIndex)
	c.sets.AddHandler(controller.OwnerHandler(c.queue, nil))
	c.pods.AddHandler(c.podHandler().Handler())
	ctx.RunWorkers(opts.Workers, controller.Worker(c.queue, c.sync, 0), c.pods, c.sets, c.claims, c.revisions)
	return c
}

// Stop shuts the work queue down: the workers finish the key in hand and
// exit.
func (c *Controller) Stop() { c.queue.ShutDown() }

// --- event handlers: they only enqueue ---

// podHandler is addPod, updatePod and deletePod: a pod's set, or the sets
// selecting an orphan, are enqueued; a pod just ready is looked at again
// once it may be available.
func (c *Controller) podHandler() *controller.DependentHandler[*appsv1.StatefulSet] {
	return &controller.DependentHandler[*appsv1.StatefulSet]{
		Owners: &controller.Owners[*appsv1.StatefulSet]{Kind: apiserver.StatefulSets, Informer: c.sets,
			Selector: func(set *appsv1.StatefulSet) *metav1.LabelSelector { return set.Spec.Selector }},
		Queue: c.queue,
		Updated: func(set *appsv1.StatefulSet, old, cur apiserver.Object) {
			if !kube.IsPodReady(old.(*corev1.Pod)) && kube.IsPodReady(cur.(*corev1.Pod)) && set.Spec.MinReadySeconds > 0 {
				c.queue.AddAfter(controller.KeyFunc(set), time.Duration(set.Spec.MinReadySeconds)*time.Second)
			}
		},
	}
}

// --- workers ---

// sync brings one StatefulSet's pods, claims and revisions towards its spec
// and writes its status.
func (c *Controller) sync(key string) error {
	if err := c.consistency.EnsureReady(key); err != nil {
		return err
	}
	namespace, name := controller.SplitKey(key)
	obj := c.sets.Get(namespace, name)
	if obj == nil {
		c.consistency.Clear(key, "")
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
