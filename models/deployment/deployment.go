// Package deployment models the upstream Deployment controller
// (pkg/controller/deployment, v1.36) decision by decision, on ctrlsim's
// controller runtime: its event handlers, the adoption and release of
// ReplicaSets, the new ReplicaSet (pod-template-hash, name, revision and
// replica annotations, hash collisions), RollingUpdate and Recreate,
// proportional scaling on a scaling event or while paused, cleanup of old
// ReplicaSets beyond revisionHistoryLimit, the Progressing and Available
// conditions with progressDeadlineSeconds, and status.
//
// It runs beside a ReplicaSet controller (models/replicaset), as upstream runs
// both: it only sizes ReplicaSets, and the ReplicaSet controller makes and
// deletes the pods.
//
// Options select named alternatives for comparison (no proportional scaling,
// scale down before scaling up); the zero value is upstream's behaviour.
//
// Where the model knowingly differs: the pod-delete handler of a Recreate
// Deployment reads the ReplicaSet cache where upstream makes a live LIST (a
// ctrlsim handler must not block); events go to Controller.Events, not to
// the API server. Like upstream it has no expectations: it sizes ReplicaSets
// from its cache, so decisions taken within its watch delay of its own
// writes can briefly exceed replicas + maxSurge (a scale right after a new
// template, for instance), as upstream's can.
package deployment

import (
	"cmp"
	"fmt"
	"reflect"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Upstream constants.
const (
	Workers    = 5  // --concurrent-deployment-syncs
	maxRetries = 15 // requeues before a failing key is dropped
)

// Options configure the model. The zero value of each field is upstream's
// behaviour, so Options{} is the faithful model of the Deployment controller.
type Options struct {
	// Name is the controller's client name in the history and in failures.
	// Default "deployment-controller".
	Name string
	// Workers is the number of sync workers. Default 5.
	Workers int
	// ScaleNewestOnly: on a scaling event in the middle of a rollout (or
	// while paused with several active ReplicaSets), put the whole change on
	// the newest ReplicaSet (a decrease taken from the newest down) instead
	// of spreading it over the ReplicaSets in proportion to their sizes.
	// Scaling up mid-rollout then hastens the rollout of a template that may
	// be bad, which is what upstream's proportional scaling avoids.
	ScaleNewestOnly bool
	// ScaleDownFirst: in a RollingUpdate sync, scale the old ReplicaSets
	// down (within maxUnavailable) before scaling the new one up (within
	// maxSurge), instead of upstream's surge first; a new ReplicaSet that
	// has old ones to replace is created with 0 replicas. The rollout spends
	// its unavailability budget before its surge: fewer pods at the peak
	// when maxUnavailable allows, fewer available on the way.
	ScaleDownFirst bool
	// Trace is the run's decision trace. ctrlsim's trace records scale-down
	// decisions over pods, and this controller deletes no pods (its
	// ReplicaSets' controller does and records them), so nothing is written
	// to it; the ReplicaSet scalings are in Controller.Events.
	Trace *trace.Recorder
}

// Event is what upstream's controller reports as a Kubernetes Event: the
// ReplicaSet scalings ("Scaled up replica set web-5d4f8 from 0 to 1"),
// rollbacks and warnings.
type Event struct {
	Time    time.Time // the controller's clock
	Object  string    // "Deployment/namespace/name"
	Type    string    // Normal or Warning
	Reason  string
	Message string
}

// Controller is one running Deployment controller.
type Controller struct {
	ctx         *controller.Context
	opts        Options
	deployments *controller.Informer
	replicaSets *controller.Informer
	pods        *controller.Informer
	queue       *controller.Queue[string]
	owners      *controller.Owners[*appsv1.Deployment] // of ReplicaSets
	events      []Event
}

// Run is the model as a strategy's controller (plugin.Controller.Run).
func Run(opts Options) func(*controller.Context, *trace.Recorder) {
	return plugin.Run(opts, StartWithContext)
}

// SetProcess names the controller and sets its trace (plugin.ModelOptions).
func (o *Options) SetProcess(name string, tr *trace.Recorder) { o.Name, o.Trace = name, tr }

// Start runs the controller on the harness with its own context.
func Start(api *apiserver.Server, opts Options) *Controller {
	return StartWithContext(controller.NewContext(cmp.Or(opts.Name, "deployment-controller"), api), opts)
}

// StartWithContext runs the controller in ctx.
func StartWithContext(ctx *controller.Context, opts Options) *Controller {
	opts.Name = cmp.Or(opts.Name, ctx.Name())
	if opts.Workers <= 0 {
		opts.Workers = Workers
	}
	c := &Controller{
		ctx: ctx, opts: opts,
		deployments: ctx.Informer(apiserver.Deployments),
		replicaSets: ctx.Informer(apiserver.ReplicaSets),
		pods:        ctx.Informer(apiserver.Pods),
		queue:       controller.NewQueue[string](ctx.World(), opts.Name, nil),
	}
	c.pods.AddIndex(indexControllerUID, controllerUID)
	c.replicaSets.AddIndex(indexControllerUID, controllerUID)
	c.owners = &controller.Owners[*appsv1.Deployment]{Kind: apiserver.Deployments, Informer: c.deployments, SkipUnlabelled: true,
		Selector: func(d *appsv1.Deployment) *metav1.LabelSelector { return d.Spec.Selector }}
	c.deployments.AddHandler(controller.OwnerHandler(c.queue, nil))
	// addReplicaSet, updateReplicaSet and deleteReplicaSet: a ReplicaSet's
	// Deployment, or those selecting an orphan, are enqueued.
	c.replicaSets.AddHandler((&controller.DependentHandler[*appsv1.Deployment]{Owners: c.owners, Queue: c.queue}).Handler())
	c.pods.AddHandler(controller.Handler{OnDelete: c.deletePod})
	ctx.RunWorkers(opts.Workers, controller.Worker(c.queue, c.sync, maxRetries), c.deployments, c.replicaSets, c.pods)
	return c
}

// Events returns the events the controller reported, in order.
func (c *Controller) Events() []Event { return c.events }

// Stop shuts the work queue down: the workers finish the key in hand and exit.
func (c *Controller) Stop() { c.queue.ShutDown() }

func (c *Controller) event(d *appsv1.Deployment, typ, reason, format string, args ...any) {
	c.events = append(c.events, Event{Time: c.ctx.Now(), Object: "Deployment/" + d.Namespace + "/" + d.Name,
		Type: typ, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// indexControllerUID keys objects by the uid of their controller reference,
// as upstream's PodControllerUIDIndex.
const indexControllerUID = "controller-uid"

func controllerUID(obj apiserver.Object) []string {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		return []string{string(ref.UID)}
	}
	return nil
}

// --- event handlers (they only enqueue) ---

// deletePod wakes a Recreate Deployment once the last of its pods is gone.
// Upstream lists the Deployment's ReplicaSets with a live API call here; a
// ctrlsim handler must not block, so the model reads its cache instead.
func (c *Controller) deletePod(obj apiserver.Object) {
	pod := obj.(*corev1.Pod)
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != string(apiserver.ReplicaSets) {
		return
	}
	o := c.replicaSets.Get(pod.Namespace, ref.Name)
	if o == nil || o.GetUID() != ref.UID {
		return
	}
	d, ok := c.owners.Resolve(pod.Namespace, metav1.GetControllerOfNoCopy(o))
	if !ok || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return
	}
	for _, rso := range c.replicaSets.List(d.Namespace, sel) {
		if metav1.IsControlledBy(rso, d) && len(c.pods.ByIndex(indexControllerUID, string(rso.GetUID()))) > 0 {
			return
		}
	}
	c.queue.Add(controller.KeyFunc(d))
}

// --- workers ---

// sync is syncDeployment: one Deployment, from the cache, to its ReplicaSets.
func (c *Controller) sync(key string) error {
	namespace, name := controller.SplitKey(key)
	obj := c.deployments.Get(namespace, name)
	if obj == nil {
		return nil
	}
	d := obj.(*appsv1.Deployment).DeepCopy()

	if reflect.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		c.event(d, corev1.EventTypeWarning, reasonSelectingAll, "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			_, _ = c.ctx.Client().UpdateStatus(d)
		}
		return nil
	}
	rsList, err := c.claimReplicaSets(d)
	if err != nil {
		return err
	}
	byAge(rsList)
	podMap := c.podsByReplicaSet(rsList)

	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(d, rsList)
	}
	// Pausing and resuming set Progressing to Unknown, so that a Deployment
	// paused longer than its deadline does not time out when resumed.
	if err := c.checkPausedConditions(d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.syncScale(d, rsList)
	}
	if rollbackTo(d) != nil {
		return c.rollback(d, rsList)
	}
	scaling, err := c.isScalingEvent(d, rsList)
	if err != nil {
		return err
	}
	if scaling {
		return c.syncScale(d, rsList)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		return c.rolloutRecreate(d, rsList, podMap)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(d, rsList)
	}
	return fmt.Errorf("unexpected deployment strategy type: %s", d.Spec.Strategy.Type)
}

// podsByReplicaSet groups the cached pods each ReplicaSet controls.
func (c *Controller) podsByReplicaSet(rsList []*appsv1.ReplicaSet) map[string][]*corev1.Pod {
	out := make(map[string][]*corev1.Pod, len(rsList))
	for _, rs := range rsList {
		var pods []*corev1.Pod
		for _, o := range c.pods.ByIndex(indexControllerUID, string(rs.UID)) {
			pods = append(pods, o.(*corev1.Pod))
		}
		out[string(rs.UID)] = pods
	}
	return out
}
