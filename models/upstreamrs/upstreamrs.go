package upstreamrs

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	kcontroller "k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	consistencyutil "k8s.io/kubernetes/pkg/controller/util/consistency"
	"k8s.io/kubernetes/pkg/features"
	kclock "k8s.io/utils/clock"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
)

// Name is the strategy's (and the controller's) name.
const Name = "upstream-replicaset"

// Upstream defaults (kube-controller-manager v1.36).
const (
	Workers       = 5 // --concurrent-replicaset-syncs
	BurstReplicas = replicaset.BurstReplicas
)

// Options configure the hosted controller. The zero value is upstream's
// kube-controller-manager configuration.
type Options struct {
	// Name is the controller's client name. Default Name.
	Name string
	// Workers is the number of sync workers. Default 5.
	Workers int
	// BurstReplicas caps the pods created or deleted in one sync. Default 500.
	BurstReplicas int
	// Trace receives every scale-down decision (may be nil): the pods the
	// controller deleted, with the candidates it had (in cache order: the
	// upstream code does not say how it ranked them).
	Trace *trace.Recorder
}

// Controller is one running instance of upstream's ReplicaSet controller.
type Controller struct {
	ctx  *controller.Context
	opts Options
	rsc  *replicaset.ReplicaSetController
	sync func(context.Context, string) error

	rsInf, podInf *informer
	queue         *queue
	exp           *expectations
	syncCtx       context.Context

	mailbox chan *call
	dead    chan struct{}
	diedAt  time.Time // the clock of a dead controller's leftover goroutines
}

// Start runs the controller on the harness with its own context.
func Start(api *apiserver.Server, opts Options) *Controller {
	if opts.Name == "" {
		opts.Name = Name
	}
	return StartWithContext(controller.NewContext(opts.Name, api), opts)
}

// StartWithContext builds upstream's controller in ctx and starts its
// workers as coroutines of ctx.
func StartWithContext(ctx *controller.Context, opts Options) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = Workers
	}
	if opts.BurstReplicas <= 0 {
		opts.BurstReplicas = BurstReplicas
	}
	c := &Controller{ctx: ctx, opts: opts,
		rsInf:   newInformer(ctx.Informer(apiserver.ReplicaSets)),
		podInf:  newInformer(ctx.Informer(apiserver.Pods)),
		mailbox: make(chan *call),
		dead:    make(chan struct{}),
		syncCtx: klog.NewContext(context.Background(), logr.Discard()),
	}
	c.build()
	ctx.Go("run", func() {
		// As the model: wait for the ReplicaSets, then the pods (upstream
		// waits for both informers, which its factory starts together).
		c.rsInf.inf.WaitForCacheSync()
		c.podInf.inf.WaitForCacheSync()
		for i := 0; i < opts.Workers; i++ {
			ctx.Go(fmt.Sprintf("worker-%d", i), c.worker)
		}
	})
	return c
}

// build is NewReplicaSetController's wiring, with ctrlsim's pieces in place of
// client-go's (see the package documentation).
func (c *Controller) build() {
	cs := &clientset{c: c}
	var store consistencyutil.ConsistencyStore = consistencyutil.NewNoopConsistencyStore()
	var onWrite func(*corev1.Pod, *metav1.OwnerReference)
	if utilfeature.DefaultFeatureGate.Enabled(features.StaleControllerConsistencyReplicaSet) {
		real := consistencyutil.NewConsistencyStore(map[schema.GroupResource]consistencyutil.LastSyncRVGetter{
			{Resource: "pods"}:                       c.podInf.store,
			{Group: "apps", Resource: "replicasets"}: c.rsInf.store,
		})
		store = real
		onWrite = func(pod *corev1.Pod, ref *metav1.OwnerReference) {
			if ref != nil {
				real.WroteAt(types.NamespacedName{Namespace: pod.Namespace, Name: ref.Name}, ref.UID, schema.GroupResource{Resource: "pods"}, pod.ResourceVersion)
			}
		}
	}
	podControl := kcontroller.RealPodControl{KubeClient: cs, Recorder: &record.FakeRecorder{}, OnWrite: onWrite}
	logger := logr.Discard()
	c.rsc = replicaset.NewBaseController(logger, rsInformer{c.rsInf}, podInformer{c.podInf}, cs, c.opts.BurstReplicas,
		appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), "replicaset_controller", "replicaset",
		podControl, nil, replicaset.DefaultReplicaSetControllerFeatures(), store)

	// Its own work queue runs goroutines on the wall clock: stop them and use
	// ctrlsim's.
	getField[workqueue.TypedRateLimitingInterface[string]](c.rsc, "queue").ShutDown()
	c.queue = &queue{q: controller.NewQueue[string](c.ctx.World(), c.opts.Name, nil), dead: c.dead}
	setField[workqueue.TypedRateLimitingInterface[string]](c.rsc, "queue", c.queue)
	setField[kclock.PassiveClock](c.rsc, "clock", clock{c.now})
	c.exp = newExpectations(c.now)
	setField(c.rsc, "expectations", kcontroller.NewUIDTrackingControllerExpectations(c.exp))
	c.sync = getField[func(context.Context, string) error](c.rsc, "syncHandler")
}

type rsInformer struct{ s *informer }

func (i rsInformer) Informer() cache.SharedIndexInformer { return i.s }
func (i rsInformer) Lister() appslisters.ReplicaSetLister {
	return appslisters.NewReplicaSetLister(i.s.store)
}

type podInformer struct{ s *informer }

func (i podInformer) Informer() cache.SharedIndexInformer { return i.s }
func (i podInformer) Lister() corelisters.PodLister       { return corelisters.NewPodLister(i.s.store) }

// Upstream is upstream's ReplicaSetController being hosted (to inspect it).
func (c *Controller) Upstream() *replicaset.ReplicaSetController { return c.rsc }

// worker is processNextWorkItem's loop on a coroutine.
func (c *Controller) worker() {
	for {
		key, quit := c.queue.Get()
		if quit {
			return
		}
		err := c.runSync(key)
		if err == nil {
			c.queue.Forget(key)
		} else {
			c.queue.AddRateLimited(key)
		}
		c.queue.Done(key)
	}
}

// runSync runs upstream's syncHandler for key in a goroutine and serves its
// API requests from this coroutine until it returns. Only one sync's
// goroutines run at a time, and only while this coroutine waits for them: the
// world stands still until they have all asked for what they need.
func (c *Controller) runSync(key string) (err error) {
	defer c.exp.forgetPlan(key)
	defer func() {
		// Killed while parked (a crash fault, the end of the run): release the
		// goroutines of the sync.
		if r := recover(); r != nil {
			c.stop()
			panic(r)
		}
	}()
	// Upstream's sync is plain blocking Go that cannot run inside a ctrlsim
	// coroutine's primitives: it runs on a goroutine of its own while this
	// coroutine answers its API calls one at a time (the simulation waits),
	// so the goroutine never runs alongside the engine.
	go func() {
		defer func() {
			if r := recover(); r != nil {
				c.post(&call{done: true, panicked: r, stack: string(debug.Stack())})
			}
		}()
		err := c.sync(c.syncCtx, key)
		c.post(&call{done: true, err: err})
	}()
	for {
		m := <-c.mailbox
		switch {
		case m.panicked != nil:
			panic(fmt.Sprintf("upstream syncReplicaSet(%q) panicked: %v\n%s", key, m.panicked, m.stack))
		case m.done:
			return m.err
		case m.req.Kind == apiserver.Pods && m.req.Verb == apiserver.Create:
			c.serveBatch(key, m, c.exp.nextCreates(key))
		case m.req.Kind == apiserver.Pods && m.req.Verb == apiserver.Delete:
			c.serveBatch(key, m, c.exp.takeDeletes(key))
		default:
			m.reply <- c.serve(m.req)
		}
	}
}

func (c *Controller) stop() {
	select {
	case <-c.dead:
	default:
		c.diedAt = c.ctx.Now()
		close(c.dead)
	}
}

// now is the controller's virtual time. The goroutines of a sync that was
// killed go on running with the world, so they must not read it any more:
// for them time stopped when the controller died.
func (c *Controller) now() time.Time {
	select {
	case <-c.dead:
		return c.diedAt
	default:
		return c.ctx.Now()
	}
}

// serve sends one request and returns the caller's own copy of the answer.
func (c *Controller) serve(req *apiserver.Request) *apiserver.Response {
	if req.Kind == apiserver.ReplicaSets && req.Subresource == "status" {
		restamp(req.Object.(*appsv1.ReplicaSet), c.ctx.Now())
	}
	resp := c.ctx.Client().Do(req)
	out := &apiserver.Response{Err: resp.Err, ResourceVersion: resp.ResourceVersion}
	if resp.Object != nil {
		out.Object = resp.Object.DeepCopyObject().(apiserver.Object)
	}
	return out
}

// restamp gives conditions stamped with the wall clock (later than virtual
// now) the virtual time instead.
func restamp(rs *appsv1.ReplicaSet, now time.Time) {
	for i := range rs.Status.Conditions {
		if t := &rs.Status.Conditions[i].LastTransitionTime; t.After(now) {
			*t = metav1.NewTime(now)
		}
	}
}

// serveBatch collects the n concurrent requests a sync's goroutines make
// (first is one of them), sends them into the simulation together, in a fixed
// order, and answers each.
func (c *Controller) serveBatch(key string, first *call, n int) {
	if n <= 0 {
		panic(fmt.Sprintf("upstreamrs: sync of %s made a concurrent %s %s request nobody announced", key, first.req.Verb, first.req.Kind))
	}
	calls := []*call{first}
	for len(calls) < n {
		m := <-c.mailbox
		if m.done || m.req.Kind != first.req.Kind || m.req.Verb != first.req.Verb {
			panic(fmt.Sprintf("upstreamrs: sync of %s: expected %d concurrent %s %s requests, got %d and then another message",
				key, n, first.req.Verb, first.req.Kind, len(calls)))
		}
		calls = append(calls, m)
	}
	// Creates of one batch are identical; deletes go in pod-name order.
	slices.SortStableFunc(calls, func(a, b *call) int { return strings.Compare(a.req.Name, b.req.Name) })
	if first.req.Verb == apiserver.Delete {
		c.recordScaleDown(key, calls)
	}
	resps := make([]*apiserver.Response, n)
	c.ctx.Parallel(n, func(i int) { resps[i] = c.serve(calls[i].req) })
	for i, m := range calls {
		m.reply <- resps[i]
	}
}

// recordScaleDown writes the decision trace of a scale-down: the pods chosen,
// and the active pods of the ReplicaSet the controller chose them from.
func (c *Controller) recordScaleDown(key string, calls []*call) {
	if c.opts.Trace == nil {
		return
	}
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	obj := c.rsInf.inf.Get(ns, name)
	if obj == nil {
		return
	}
	rs := obj.(*appsv1.ReplicaSet)
	now := c.ctx.Now()
	d := trace.Decision{
		Time: now.Format(time.RFC3339Nano), Controller: c.opts.Name, Owner: "ReplicaSet/" + key,
		OwnerHasController: metav1.GetControllerOfNoCopy(rs) != nil, Now: now.Format(time.RFC3339Nano), Diff: len(calls),
	}
	for _, m := range calls {
		d.Chosen = append(d.Chosen, m.req.Name)
	}
	d.Candidates = c.candidates(rs)
	c.opts.Trace.Record(d)
}

// candidates are the pods the sync ranked, as the cache shows them: the
// active pods the ReplicaSet owns or adopted (orphans its selector matches;
// owned pods it does not match were released), with their rank attributes.
// Rank counts the active pods of ReplicaSets with the same controller on the
// same node, as upstream's getIndirectlyRelatedPods and
// getPodsRankedByRelatedPodsOnSameNode do (none for a ReplicaSet without a
// controller).
func (c *Controller) candidates(rs *appsv1.ReplicaSet) []trace.Candidate {
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return nil
	}
	mine, err := kcontroller.FilterPodsByOwner(c.podInf.store, &rs.ObjectMeta, "ReplicaSet", true)
	if err != nil {
		return nil
	}
	var active []*corev1.Pod
	for _, p := range kcontroller.FilterActivePods(logr.Discard(), mine) {
		if sel.Matches(labels.Set(p.Labels)) {
			active = append(active, p)
		}
	}
	onNode := map[string]int{}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		seen := map[types.UID]bool{}
		for _, o := range c.rsInf.inf.List(rs.Namespace, nil) {
			other := o.(*appsv1.ReplicaSet)
			oref := metav1.GetControllerOfNoCopy(other)
			if oref == nil || oref.UID != ref.UID {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(other.Spec.Selector)
			if err != nil {
				continue
			}
			for _, p := range c.podInf.inf.List(other.Namespace, sel) {
				pod := p.(*corev1.Pod)
				if !seen[pod.UID] && kcontroller.IsPodActive(pod) {
					onNode[pod.Spec.NodeName]++
				}
				seen[pod.UID] = true
			}
		}
	}
	out := make([]trace.Candidate, 0, len(active))
	for _, p := range active {
		out = append(out, candidate(p, onNode[p.Spec.NodeName]))
	}
	return out
}

func candidate(p *corev1.Pod, rank int) trace.Candidate {
	cand := trace.Candidate{Name: p.Name, UID: string(p.UID), Node: p.Spec.NodeName, Phase: string(p.Status.Phase),
		Created: p.CreationTimestamp.Format(time.RFC3339Nano), Rank: rank}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
			cand.Ready = true
			s := cond.LastTransitionTime.Format(time.RFC3339Nano)
			cand.ReadySince = &s
		}
	}
	for _, st := range p.Status.ContainerStatuses {
		cand.Restarts = max(cand.Restarts, int(st.RestartCount))
	}
	if v, ok := p.Annotations[corev1.PodDeletionCost]; ok {
		fmt.Sscanf(v, "%d", &cand.DeletionCost)
	}
	return cand
}

// Strategy is the "upstream" strategy with upstream's own ReplicaSet
// controller in place of the model; every other kind runs the models.
func Strategy() plugin.Strategy {
	st, err := models.Lookup("upstream")
	if err != nil {
		panic(err)
	}
	st = st.With(plugin.Controller{Name: Name, Kinds: []apiserver.Kind{apiserver.ReplicaSets},
		Run: func(ctx *controller.Context, tr *trace.Recorder) {
			StartWithContext(ctx, Options{Name: ctx.Name(), Trace: tr})
		}})
	st.Name = Name
	st.WallClock = true // upstream reads time.Now and metav1.Now()
	st.Summary = "upstream's own ReplicaSet controller code (k8s.io/kubernetes v1.36.3) hosted on the harness; the other kinds as upstream"
	return st
}

func init() {
	models.Register(Strategy())
	// Upstream reports some expected conditions through HandleError, whose
	// last handler rate-limits callers against the wall clock read at package
	// init. In a testing/synctest bubble (sim.Limits.SyncWallClock) that
	// clock reads 2025 while the init read today: it would sleep the
	// difference, jumping the bubble's clock by an amount that depends on
	// when the process started. A rate limit of real time has no use in a
	// simulation; logging stays.
	utilruntime.ErrorHandlers = []utilruntime.ErrorHandler{logError}
}

// logError is apimachinery's own first handler (unexported there).
func logError(ctx context.Context, err error, msg string, keysAndValues ...any) {
	klog.LoggerWithName(klog.FromContext(ctx).WithCallDepth(3), "UnhandledError").Error(err, msg, keysAndValues...)
}
