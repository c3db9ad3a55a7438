// Package hpa models the upstream HorizontalPodAutoscaler controller
// (pkg/controller/podautoscaler, v1.36) on ctrlsim's controller runtime: every
// sync period each HPA (autoscaling/v2) reads its target's scale subresource,
// lists the target's pods by the scale's selector, reads their CPU from the
// metrics API (apiserver.MetricsSource), proposes a replica count (tolerance,
// unready and missing pods, the CPU start-up window), stabilizes and limits it
// (the scale-down stabilization window and the scale-up limit, or
// spec.behavior), writes the scale subresource when the count changes, and
// writes its status (currentReplicas, desiredReplicas, currentMetrics,
// lastScaleTime and the AbleToScale, ScalingActive and ScalingLimited
// conditions).
//
// Where it knowingly differs from upstream:
//   - no Events are written (the simulated API server serves none);
//   - an empty scaleTargetRef.apiVersion resolves to the group the kind is
//     served at (upstream looks in the core group only, so such an HPA on a
//     ReplicaSet never scales); StrictTargetAPIVersion restores upstream's;
//   - a container without a CPU request counts as requesting
//     apiserver.DefaultContainerCPURequest (a LimitRange default) instead of
//     failing the metric;
//   - the API server does not default spec.behavior: the model fills a given
//     behavior's unset fields with the defaults the real server would store;
//   - metrics other than CPU resource metrics (memory, pods, object, external)
//     have no source and fail as on a cluster without them;
//   - the informer's 15 s resync is left out: every sync requeues its HPA.
package hpa

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Upstream defaults (kube-controller-manager flags).
const (
	SyncPeriod              = 15 * time.Second // --horizontal-pod-autoscaler-sync-period
	Workers                 = 5                // --concurrent-horizontal-pod-autoscaler-syncs
	Tolerance               = 0.1              // --horizontal-pod-autoscaler-tolerance
	DownscaleStabilization  = 5 * time.Minute  // --horizontal-pod-autoscaler-downscale-stabilization
	CPUInitializationPeriod = 5 * time.Minute  // --horizontal-pod-autoscaler-cpu-initialization-period
	InitialReadinessDelay   = 30 * time.Second // --horizontal-pod-autoscaler-initial-readiness-delay
)

// Options configure the model. The zero value of each field means upstream's
// behaviour, so Options{} is the faithful model.
type Options struct {
	// Name is the controller's client name in the history and failures.
	// Default "horizontal-pod-autoscaler".
	Name string
	// Trace, if set, receives one decision per scale-down the autoscaler
	// writes (Owner is the target, Diff the replicas removed; no candidates:
	// the target's controller chooses the pods and records its own decision).
	Trace *trace.Recorder
	// SyncPeriod is how often each HPA is reconciled. Default 15 s.
	SyncPeriod time.Duration
	// Workers is the number of sync workers. Default 5.
	Workers int
	// Tolerance: usage ratios within 1 ± Tolerance change nothing. Default
	// 0.1 (0 means the default, as the upstream flag).
	Tolerance float64
	// DownscaleStabilization is the scale-down stabilization window: the
	// highest proposal of this long decides. Default 5 min.
	DownscaleStabilization time.Duration
	// NoStabilization makes the window 0: every proposal is applied at once,
	// so a noisy load makes the target flap (the "no-stabilization" variant).
	NoStabilization bool
	// CPUInitializationPeriod and InitialReadinessDelay decide which CPU
	// samples of starting pods are trusted. Defaults 5 min and 30 s.
	CPUInitializationPeriod time.Duration
	InitialReadinessDelay   time.Duration
	// StrictTargetAPIVersion resolves a scaleTargetRef without apiVersion in
	// the core group only, as upstream's REST mapper does.
	StrictTargetAPIVersion bool
	// Metrics is the metrics API; nil reads the API server's Metrics field
	// at every sync.
	Metrics apiserver.MetricsSource
}

// Variant is a named configuration a user would compare.
type Variant struct {
	Name    string
	Summary string
	Options Options
}

// Variants are the model's named configurations.
var Variants = []Variant{
	{Name: "upstream", Summary: "the HorizontalPodAutoscaler controller as upstream v1.36 runs it", Options: Options{}},
	{Name: "no-stabilization", Summary: "no scale-down stabilization window: every proposal is applied at once, so the target flaps with the load",
		Options: Options{NoStabilization: true}},
}

func (o *Options) defaults() {
	if o.Name == "" {
		o.Name = "horizontal-pod-autoscaler"
	}
	if o.SyncPeriod <= 0 {
		o.SyncPeriod = SyncPeriod
	}
	if o.Workers <= 0 {
		o.Workers = Workers
	}
	if o.Tolerance == 0 {
		o.Tolerance = Tolerance
	}
	if o.DownscaleStabilization <= 0 {
		o.DownscaleStabilization = DownscaleStabilization
	}
	if o.NoStabilization {
		o.DownscaleStabilization = 0
	}
	if o.CPUInitializationPeriod <= 0 {
		o.CPUInitializationPeriod = CPUInitializationPeriod
	}
	if o.InitialReadinessDelay <= 0 {
		o.InitialReadinessDelay = InitialReadinessDelay
	}
}

// Controller is one running HorizontalPodAutoscaler controller.
type Controller struct {
	ctx   *controller.Context
	opts  Options
	hpas  *controller.Informer
	pods  *controller.Informer
	queue *controller.Queue[string]
	// memory: recommendations and scale events per HPA key, and the
	// selector each HPA last used (to refuse overlapping HPAs).
	hist      map[string]*history
	selectors map[string]labels.Selector
}

// Start runs the controller on the harness with its own context.
func Start(api *apiserver.Server, opts Options) *Controller {
	opts.defaults()
	return StartWithContext(controller.NewContext(opts.Name, api), opts)
}

// StartWithContext runs the controller in ctx.
func StartWithContext(ctx *controller.Context, opts Options) *Controller {
	opts.defaults()
	c := &Controller{
		ctx: ctx, opts: opts,
		hpas:      ctx.Informer(apiserver.HorizontalPodAutoscalers),
		pods:      ctx.Informer(apiserver.Pods),
		queue:     controller.NewQueue[string](ctx.World(), opts.Name, fixedInterval(opts.SyncPeriod)),
		hist:      map[string]*history{},
		selectors: map[string]labels.Selector{},
	}
	c.hpas.AddHandler(controller.Handler{OnAdd: c.enqueue, OnUpdate: func(_, cur apiserver.Object) { c.enqueue(cur) }, OnDelete: c.deleted})
	ctx.RunWorkers(opts.Workers, c.worker, c.hpas, c.pods)
	return c
}

// fixedInterval is the HPA queue's rate limiter: every requeue waits one sync
// period, failure or not.
type fixedInterval time.Duration

func (f fixedInterval) When(string) time.Duration { return time.Duration(f) }
func (fixedInterval) Forget(string)               {}
func (fixedInterval) NumRequeues(string) int      { return 1 }

// enqueue: an HPA seen (added or changed) is synced one period later, never
// sooner than a sync already waiting. A new HPA selects nothing until its
// first sync.
func (c *Controller) enqueue(obj apiserver.Object) {
	key := controller.KeyFunc(obj)
	c.queue.AddRateLimited(key)
	if _, ok := c.selectors[key]; !ok {
		c.selectors[key] = labels.Nothing()
	}
}

func (c *Controller) deleted(obj apiserver.Object) {
	key := controller.KeyFunc(obj)
	c.queue.Forget(key)
	delete(c.selectors, key)
}

func (c *Controller) worker() {
	for {
		key, quit := c.queue.Get()
		if quit {
			return
		}
		if deleted, _ := c.sync(key); !deleted {
			c.queue.AddRateLimited(key)
		}
		c.queue.Done(key)
	}
}

// Stop shuts the controller's queue down.
func (c *Controller) Stop() { c.queue.ShutDown() }

// sync is reconcileKey: an HPA gone from the cache takes its memory with it.
func (c *Controller) sync(key string) (deleted bool, err error) {
	ns, name := controller.SplitKey(key)
	obj := c.hpas.Get(ns, name)
	if obj == nil {
		delete(c.hist, key)
		return true, nil
	}
	return false, c.reconcile(obj.(*autoscalingv2.HorizontalPodAutoscaler), key)
}

func (c *Controller) memory(key string) *history {
	h := c.hist[key]
	if h == nil {
		h = &history{}
		c.hist[key] = h
	}
	return h
}

func (c *Controller) now() time.Time { return c.ctx.Now() }

// stamp is the time written into status: the wire carries seconds.
func (c *Controller) stamp() metav1.Time { return metav1.NewTime(c.now().Truncate(time.Second)) }

// reconcile is reconcileAutoscaler: one sync of one HPA.
func (c *Controller) reconcile(shared *autoscalingv2.HorizontalPodAutoscaler, key string) (retErr error) {
	hpa := shared.DeepCopy()
	orig := hpa.Status.DeepCopy()
	ref := hpa.Spec.ScaleTargetRef
	reference := fmt.Sprintf("%s/%s/%s", ref.Kind, hpa.Namespace, ref.Name)

	failScale := func(err error) {
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale",
			"the HPA controller was unable to get the target's current scale: "+err.Error())
		_ = c.updateStatusIfNeeded(orig, hpa)
	}
	kind, err := c.targetKind(ref)
	if err != nil {
		failScale(err)
		return fmt.Errorf("unable to determine resource for scale target reference: %w", err)
	}
	scale, err := c.ctx.Client().GetScale(kind, hpa.Namespace, ref.Name)
	if err != nil {
		failScale(err)
		return fmt.Errorf("failed to query scale subresource for %s: %w", reference, err)
	}
	c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
	current := scale.Spec.Replicas
	h := c.memory(key)
	if h.recs == nil {
		h.recs = []recommendation{{current, c.now()}}
	}
	minReplicas := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minReplicas = *hpa.Spec.MinReplicas
	}

	var statuses []autoscalingv2.MetricStatus
	desired := int32(0)
	rescale := true
	switch {
	case current == 0:
		// Scaled to zero by hand: the autoscaler leaves it alone (the
		// HPAScaleToZero gate is off by default).
		desired, rescale = 0, false
		c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
		removeCondition(hpa, autoscalingv2.ScaledToZero)
	case current > hpa.Spec.MaxReplicas:
		desired = hpa.Spec.MaxReplicas
	case current < minReplicas:
		desired = minReplicas
	default:
		proposal, _, sts, err := c.computeReplicasForMetrics(hpa, scale)
		statuses = sts
		if err != nil && proposal == -1 {
			c.setCurrentReplicasAndMetrics(hpa, current, statuses)
			_ = c.updateStatusIfNeeded(orig, hpa)
			return fmt.Errorf("failed to compute desired number of replicas based on listed metrics for %s: %w", reference, err)
		}
		retErr = err // some metrics failed, but scaling up on the others goes on
		desired = max(desired, proposal)
		if hpa.Spec.Behavior == nil {
			desired = c.normalize(hpa, h, current, desired, minReplicas)
		} else {
			desired = c.normalizeWithBehavior(hpa, h, current, desired, minReplicas)
		}
		rescale = desired != current
	}

	if rescale {
		if err := c.writeScale(kind, hpa.Namespace, scale, desired); err != nil {
			c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale",
				"the HPA controller was unable to update the target scale: "+err.Error())
			c.setCurrentReplicasAndMetrics(hpa, current, statuses)
			_ = c.updateStatusIfNeeded(orig, hpa)
			return fmt.Errorf("failed to rescale %s: %w", reference, err)
		}
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale",
			fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired))
		h.record(c.behavior(hpa), current, desired, c.now())
		removeCondition(hpa, autoscalingv2.ScaledToZero)
		if desired < current {
			c.opts.Trace.Record(trace.Decision{Time: c.ctx.World().Now().Format(time.RFC3339Nano), Controller: c.opts.Name,
				Owner: string(kind) + "/" + hpa.Namespace + "/" + ref.Name, Now: c.now().Format(time.RFC3339Nano),
				Diff: int(current - desired), Candidates: []trace.Candidate{}, Chosen: []string{}})
		}
	} else {
		desired = current
	}
	c.setStatus(hpa, current, desired, statuses, rescale)
	if err := c.updateStatusIfNeeded(orig, hpa); err != nil {
		return err
	}
	return retErr
}

// targetKind maps scaleTargetRef to a served kind, as the REST mapper would.
func (c *Controller) targetKind(ref autoscalingv2.CrossVersionObjectReference) (apiserver.Kind, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return "", fmt.Errorf("invalid API version in scale target reference: %w", err)
	}
	kind := apiserver.Kind(ref.Kind)
	served := apiserver.GroupVersionOf(kind)
	known := apiserver.NewObject(kind) != nil
	if !known || ((ref.APIVersion != "" || c.opts.StrictTargetAPIVersion) && gv.Group != served.Group) {
		return "", fmt.Errorf("no matches for kind %q in group %q", ref.Kind, gv.Group)
	}
	return kind, nil
}

// writeScale sets the target's spec.replicas through the scale subresource,
// retrying conflicts with a fresh read (client-go's retry.DefaultRetry: 5
// tries, 10 ms apart with 10% jitter).
func (c *Controller) writeScale(kind apiserver.Kind, ns string, scale *autoscalingv1.Scale, desired int32) error {
	cl := c.ctx.Client()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			c.ctx.Sleep(jitter(10*time.Millisecond, 0.1, c.ctx.Rand().Float64()))
		}
		scale.Spec.Replicas = desired
		if _, err = cl.UpdateScale(kind, ns, scale); err == nil {
			return nil
		}
		if latest, getErr := cl.GetScale(kind, ns, scale.Name); getErr == nil {
			scale = latest
		}
		if !apierrors.IsConflict(err) {
			return err
		}
	}
	return err
}

func jitter(d time.Duration, factor, r float64) time.Duration {
	return d + time.Duration(r*factor*float64(d))
}

// behavior is the HPA's spec.behavior with the defaults filled in (nil when
// it has none).
func (c *Controller) behavior(hpa *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	return defaultedBehavior(hpa.Spec.Behavior, c.opts.DownscaleStabilization)
}

func (c *Controller) tolerances(hpa *autoscalingv2.HorizontalPodAutoscaler) tolerances {
	return tolerancesOf(hpa, c.opts.Tolerance)
}

func tolerancesOf(hpa *autoscalingv2.HorizontalPodAutoscaler, def float64) tolerances {
	t := tolerances{def, def}
	if b := hpa.Spec.Behavior; b != nil {
		if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
			t.down = b.ScaleDown.Tolerance.AsApproximateFloat64()
		}
		if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
			t.up = b.ScaleUp.Tolerance.AsApproximateFloat64()
		}
	}
	return t
}

// normalize (no spec.behavior): the stabilization window, then
// [minReplicas, min(maxReplicas, max(2 × current, 4))].
func (c *Controller) normalize(hpa *autoscalingv2.HorizontalPodAutoscaler, h *history, current, proposal, minReplicas int32) int32 {
	stabilized := h.stabilize(proposal, c.now(), c.opts.DownscaleStabilization)
	if stabilized != proposal {
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
	} else {
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", "recommended size matches current size")
	}
	l := clampWithRules(current, stabilized, minReplicas, hpa.Spec.MaxReplicas)
	c.setLimited(hpa, l, stabilized)
	return l.replicas
}

// normalizeWithBehavior: spec.behavior's stabilization windows, then its
// rate policies and [minReplicas, maxReplicas].
func (c *Controller) normalizeWithBehavior(hpa *autoscalingv2.HorizontalPodAutoscaler, h *history, current, proposal, minReplicas int32) int32 {
	b := c.behavior(hpa)
	now := c.now()
	stabilized, reason, msg := h.stabilizeWithBehavior(current, proposal, b.ScaleUp, b.ScaleDown, now)
	if stabilized != proposal {
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, reason, msg)
	} else {
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", "recommended size matches current size")
	}
	l := h.clampWithBehavior(current, stabilized, minReplicas, hpa.Spec.MaxReplicas, b.ScaleUp, b.ScaleDown, now)
	c.setLimited(hpa, l, stabilized)
	return l.replicas
}

func (c *Controller) setLimited(hpa *autoscalingv2.HorizontalPodAutoscaler, l limited, stabilized int32) {
	status := corev1.ConditionTrue
	if l.replicas == stabilized {
		status = corev1.ConditionFalse
	}
	c.setCondition(hpa, autoscalingv2.ScalingLimited, status, l.reason, l.message)
}

// --- metrics ---

func (c *Controller) metricsSource() apiserver.MetricsSource {
	if c.opts.Metrics != nil {
		return c.opts.Metrics
	}
	return c.ctx.API().Metrics
}

// computeReplicasForMetrics proposes the highest count any metric asks for.
// It returns -1 when it cannot propose (every metric failed, or some failed
// and the others would scale down).
func (c *Controller) computeReplicasForMetrics(hpa *autoscalingv2.HorizontalPodAutoscaler, scale *autoscalingv1.Scale) (int32, string, []autoscalingv2.MetricStatus, error) {
	selector, err := c.validateSelector(hpa, scale.Status.Selector)
	if err != nil {
		return -1, "", nil, err
	}
	e := evaluator{calc: c.calculator(), source: c.metricsSource(), tol: c.tolerances(hpa), namespace: hpa.Namespace,
		selector: selector, pods: podsOf(c.pods.List(hpa.Namespace, selector)), specReplicas: scale.Spec.Replicas}
	replicas, metric, statuses, condition, invalid, firstErr := e.all(hpa.Spec.Metrics)
	if firstErr != nil {
		firstErr = fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %w", invalid, len(hpa.Spec.Metrics), firstErr)
	}
	if invalid >= len(hpa.Spec.Metrics) || (invalid > 0 && replicas < scale.Spec.Replicas) {
		c.setCondition(hpa, condition.Type, condition.Status, condition.Reason, condition.Message)
		return -1, "", statuses, firstErr
	}
	c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound",
		"the HPA was able to successfully calculate a replica count from "+metric)
	return replicas, metric, statuses, firstErr
}

func (c *Controller) calculator() *calculator {
	return &calculator{now: c.now(), cpuInitialization: c.opts.CPUInitializationPeriod, initialReadinessDelay: c.opts.InitialReadinessDelay}
}

func podsOf(objs []apiserver.Object) []*corev1.Pod {
	out := make([]*corev1.Pod, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.Pod)
	}
	return out
}

// validateSelector parses the scale's selector and refuses it when the pods
// it selects are also selected by another HPA's target (AmbiguousSelector).
func (c *Controller) validateSelector(hpa *autoscalingv2.HorizontalPodAutoscaler, sel string) (labels.Selector, error) {
	if sel == "" {
		c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", "the HPA target's scale is missing a selector")
		return nil, errors.New("selector is required")
	}
	parsed, err := labels.Parse(sel)
	if err != nil {
		msg := fmt.Sprintf("couldn't convert selector into a corresponding internal selector object: %v", err)
		c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", msg)
		return nil, errors.New(msg)
	}
	key := controller.KeyFunc(hpa)
	if _, ok := c.selectors[key]; ok {
		c.selectors[key] = parsed
	}
	pods := c.pods.List(hpa.Namespace, parsed)
	var selecting []string
	for _, other := range slices.Sorted(maps.Keys(c.selectors)) {
		ns, _ := controller.SplitKey(other)
		if ns != hpa.Namespace {
			continue
		}
		s := c.selectors[other]
		for _, p := range pods {
			if s.Matches(labels.Set(p.GetLabels())) {
				selecting = append(selecting, other)
				break
			}
		}
	}
	if len(selecting) > 1 {
		msg := fmt.Sprintf("pods by selector %v are controlled by multiple HPAs: [%s]", sel, strings.Join(selecting, " "))
		c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "AmbiguousSelector", msg)
		return nil, errors.New(msg)
	}
	return parsed, nil
}

// evaluator computes each metric's proposal for one HPA.
type evaluator struct {
	calc         *calculator
	source       apiserver.MetricsSource
	tol          tolerances
	namespace    string
	selector     labels.Selector
	pods         []*corev1.Pod
	specReplicas int32
}

// all evaluates every metric: the highest proposal, its metric's name, the
// statuses, and for failures the first one's condition and error and how
// many failed.
func (e *evaluator) all(specs []autoscalingv2.MetricSpec) (replicas int32, metric string, statuses []autoscalingv2.MetricStatus,
	condition autoscalingv2.HorizontalPodAutoscalerCondition, invalid int, firstErr error) {
	statuses = make([]autoscalingv2.MetricStatus, len(specs))
	for i, spec := range specs {
		proposal, name, cond, err := e.one(spec, &statuses[i])
		if err != nil {
			if invalid == 0 {
				condition, firstErr = cond, err
			}
			invalid++
			continue
		}
		if replicas == 0 || proposal > replicas {
			replicas, metric = proposal, name
		}
	}
	return
}

func unable(reason string, err error) autoscalingv2.HorizontalPodAutoscalerCondition {
	return autoscalingv2.HorizontalPodAutoscalerCondition{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: reason,
		Message: "the HPA was unable to compute the replica count: " + err.Error()}
}

// errNoCustomMetrics is what a cluster without a custom or external metrics
// adapter answers.
var errNoCustomMetrics = errors.New("the server could not find the requested resource")

func (e *evaluator) one(spec autoscalingv2.MetricSpec, status *autoscalingv2.MetricStatus) (int32, string, autoscalingv2.HorizontalPodAutoscalerCondition, error) {
	switch spec.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource == nil {
			break
		}
		r, st, name, err := e.resource(spec.Resource.Name, spec.Resource.Target, "")
		if err != nil {
			return 0, "", unable("FailedGetResourceMetric", err), fmt.Errorf("failed to get %s resource metric value: %w", spec.Resource.Name, err)
		}
		*status = autoscalingv2.MetricStatus{Type: spec.Type, Resource: &autoscalingv2.ResourceMetricStatus{Name: spec.Resource.Name, Current: st}}
		return r, name, autoscalingv2.HorizontalPodAutoscalerCondition{}, nil
	case autoscalingv2.ContainerResourceMetricSourceType:
		if spec.ContainerResource == nil {
			break
		}
		cr := spec.ContainerResource
		r, st, name, err := e.resource(cr.Name, cr.Target, cr.Container)
		if err != nil {
			return 0, "", unable("FailedGetContainerResourceMetric", err), fmt.Errorf("failed to get %s container metric value: %w", cr.Container, err)
		}
		*status = autoscalingv2.MetricStatus{Type: spec.Type, ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: cr.Name, Container: cr.Container, Current: st}}
		return r, name, autoscalingv2.HorizontalPodAutoscalerCondition{}, nil
	case autoscalingv2.PodsMetricSourceType:
		err := fmt.Errorf("unable to get metric %s: unable to fetch metrics from custom metrics API: %w", metricName(spec), errNoCustomMetrics)
		return 0, "", unable("FailedGetPodsMetric", err), fmt.Errorf("failed to get pods metric value: %w", err)
	case autoscalingv2.ObjectMetricSourceType:
		err := fmt.Errorf("unable to get metric %s: unable to fetch metrics from custom metrics API: %w", metricName(spec), errNoCustomMetrics)
		return 0, "", unable("FailedGetObjectMetric", err), fmt.Errorf("failed to get object metric value: %w", err)
	case autoscalingv2.ExternalMetricSourceType:
		err := fmt.Errorf("unable to fetch metrics from external metrics API: %w", errNoCustomMetrics)
		return 0, "", unable("FailedGetExternalMetric", err), fmt.Errorf("failed to get %s external metric value: %w", metricName(spec), err)
	}
	err := fmt.Errorf("unknown metric source type %q", spec.Type)
	return 0, "", unable("InvalidMetricSourceType", err), err
}

func metricName(spec autoscalingv2.MetricSpec) string {
	switch {
	case spec.Pods != nil:
		return spec.Pods.Metric.Name
	case spec.Object != nil:
		return spec.Object.Metric.Name
	case spec.External != nil:
		return spec.External.Metric.Name
	}
	return ""
}

// resource evaluates a (container) resource metric against its target.
func (e *evaluator) resource(name corev1.ResourceName, target autoscalingv2.MetricTarget, container string) (int32, autoscalingv2.MetricValueStatus, string, error) {
	var none autoscalingv2.MetricValueStatus
	samples, err := e.samples(name, container)
	if err != nil {
		return 0, none, "", fmt.Errorf("unable to get metrics for resource %s: %w", name, err)
	}
	cpu := name == corev1.ResourceCPU
	if target.AverageValue != nil {
		r, avg, err := e.calc.plainReplicas(e.specReplicas, target.AverageValue.MilliValue(), e.tol, e.pods, samples, cpu)
		if err != nil {
			return 0, none, "", fmt.Errorf("failed to get %s usage: %w", name, err)
		}
		q := *resource.NewMilliQuantity(avg, resource.DecimalSI)
		return r, autoscalingv2.MetricValueStatus{AverageValue: &q}, fmt.Sprintf("%s resource", name), nil
	}
	if target.AverageUtilization == nil {
		return 0, none, "", errors.New("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set")
	}
	if !cpu {
		// Only CPU has a request the model knows how to default, and the
		// metrics source serves nothing else.
		return 0, none, "", fmt.Errorf("failed to get %s utilization: did not receive metrics for targeted pods (pods might be unready)", name)
	}
	r, pct, avg, err := e.calc.resourceReplicas(e.specReplicas, *target.AverageUtilization, e.tol, e.pods, samples, container)
	if err != nil {
		return 0, none, "", fmt.Errorf("failed to get %s utilization: %w", name, err)
	}
	q := *resource.NewMilliQuantity(avg, resource.DecimalSI)
	metric := fmt.Sprintf("%s resource utilization (percentage of request)", name)
	if container != "" {
		metric = fmt.Sprintf("%s container resource utilization (percentage of request)", name)
	}
	return r, autoscalingv2.MetricValueStatus{AverageUtilization: &pct, AverageValue: &q}, metric, nil
}

// samples reads the metrics API. It serves CPU only: for another resource
// every pod lacks a sample.
func (e *evaluator) samples(name corev1.ResourceName, container string) (map[string]sample, error) {
	if e.source == nil {
		return nil, errors.New("unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)")
	}
	list := e.source.PodMetrics(e.namespace, e.selector)
	if len(list) == 0 {
		return nil, errors.New("no metrics returned from resource metrics API")
	}
	if name != corev1.ResourceCPU {
		return map[string]sample{}, nil
	}
	return samplesOf(list, container), nil
}

// --- status ---

func (c *Controller) setCurrentReplicasAndMetrics(hpa *autoscalingv2.HorizontalPodAutoscaler, current int32, statuses []autoscalingv2.MetricStatus) {
	c.setStatus(hpa, current, hpa.Status.DesiredReplicas, statuses, false)
}

func (c *Controller) setStatus(hpa *autoscalingv2.HorizontalPodAutoscaler, current, desired int32, statuses []autoscalingv2.MetricStatus, rescale bool) {
	hpa.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
		CurrentReplicas: current, DesiredReplicas: desired, LastScaleTime: hpa.Status.LastScaleTime,
		CurrentMetrics: statuses, Conditions: hpa.Status.Conditions,
	}
	if rescale {
		t := c.stamp()
		hpa.Status.LastScaleTime = &t
	}
}

func (c *Controller) updateStatusIfNeeded(old *autoscalingv2.HorizontalPodAutoscalerStatus, hpa *autoscalingv2.HorizontalPodAutoscaler) error {
	if equality.Semantic.DeepEqual(old, &hpa.Status) {
		return nil
	}
	if _, err := c.ctx.Client().UpdateStatus(hpa); err != nil {
		return fmt.Errorf("failed to update status for %s: %w", hpa.Name, err)
	}
	return nil
}

// setCondition sets a condition, moving its lastTransitionTime only when its
// status changes.
func (c *Controller) setCondition(hpa *autoscalingv2.HorizontalPodAutoscaler, typ autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason, message string) {
	conds := hpa.Status.Conditions
	i := 0
	for i < len(conds) && conds[i].Type != typ {
		i++
	}
	if i == len(conds) {
		conds = append(conds, autoscalingv2.HorizontalPodAutoscalerCondition{Type: typ})
	}
	if conds[i].Status != status {
		conds[i].LastTransitionTime = c.stamp()
	}
	conds[i].Status, conds[i].Reason, conds[i].Message = status, reason, message
	hpa.Status.Conditions = conds
}

func removeCondition(hpa *autoscalingv2.HorizontalPodAutoscaler, typ autoscalingv2.HorizontalPodAutoscalerConditionType) {
	kept := controller.FilterOutCondition(hpa.Status.Conditions, typ,
		func(c *autoscalingv2.HorizontalPodAutoscalerCondition) autoscalingv2.HorizontalPodAutoscalerConditionType {
			return c.Type
		})
	if len(kept) != len(hpa.Status.Conditions) {
		hpa.Status.Conditions = kept
	}
}
