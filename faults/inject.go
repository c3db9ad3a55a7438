package faults

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/harness/trace"
)

// Client is the client name of the fault injector in the history.
const Client = "chaos"

// StuckFinalizer holds a pod of a stuck-terminating fault.
const StuckFinalizer = "ctrlsim.io/stuck-terminating"

// Env is what the injector acts on: the cluster, and the strategy's running
// controllers (to crash, stall, skew or duplicate them).
type Env struct {
	Cluster  *cluster.Cluster
	Strategy plugin.Strategy
	// Controllers are the running instances, in the order of
	// Strategy.Controllers (as Strategy.Start returns them).
	Controllers []*controller.Context
	Trace       *trace.Recorder
}

// Record is what became of one fault of the plan: when it started and
// healed, and what it touched or why it could not act.
type Record struct {
	Fault   string `json:"fault"`
	Started string `json:"started,omitempty"`
	Healed  string `json:"healed,omitempty"` // when the heal began (the start, for an instant)
	Touched string `json:"touched,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Injector plays a plan.
type Injector struct {
	env     Env
	w       *sim.World
	api     *apiserver.Server
	ctx     *controller.Context
	plan    Plan
	active  []*activeAPI // API faults in force, in start order
	running int          // faults not yet healed (or given up)
	inForce int          // faults started and not yet healed
	onDone  func()
	Records []Record
	// controllers by name (every incarnation's current context)
	live map[string]*controller.Context
	// skew per controller name, summed over active clock-skew faults
	skew map[string]time.Duration
	// restarts counts incarnations per controller, for names of new ones
	restarts map[string]int
	// down counts the crash faults in force per controller
	down map[string]int
}

type activeAPI struct {
	f    *Fault
	rand *rand.Rand
}

// Start schedules every fault of the plan. onDone runs once every fault has
// healed (or given up waiting for its condition): the last disturbance.
func Start(env Env, plan Plan, onDone func()) *Injector {
	api := env.Cluster.API
	in := &Injector{env: env, w: api.World(), api: api, ctx: controller.NewContext(Client, api), plan: plan, onDone: onDone,
		Records: make([]Record, len(plan)), live: map[string]*controller.Context{}, skew: map[string]time.Duration{}, restarts: map[string]int{}, down: map[string]int{}}
	for i, c := range env.Strategy.Controllers {
		if i < len(env.Controllers) {
			in.live[c.Name] = env.Controllers[i]
		}
	}
	in.running = len(plan)
	if in.running == 0 {
		if onDone != nil {
			in.w.At(0, onDone)
		}
		return in
	}
	for i := range plan {
		f := &plan[i]
		in.Records[i].Fault = f.String()
		if f.After != nil {
			in.await(i, f)
			continue
		}
		in.w.At(f.At, func() { in.fire(i, f) })
	}
	return in
}

// Intercept is the apiserver.Interceptor of the API faults in force.
func (in *Injector) Intercept(req *apiserver.Request) apiserver.Interception {
	var ic apiserver.Interception
	for _, a := range in.active {
		f := a.f
		if !in.appliesTo(f, req) {
			continue
		}
		if f.Kind != APILatency && f.Rate < 1 && a.rand.Float64() >= f.Rate {
			continue
		}
		switch f.Kind {
		case APILatency:
			ic.ExtraLatency += f.Delay.Sample(a.rand)
		case APIError:
			if ic.Reject == nil && !ic.LoseResponse {
				ic.Reject = apiError(f.Code, req)
			}
		case LoseResponse:
			if ic.Reject == nil && req.Verb != apiserver.Get && req.Verb != apiserver.List {
				ic.LoseResponse = true
			}
		}
	}
	return ic
}

func (in *Injector) appliesTo(f *Fault, req *apiserver.Request) bool {
	if f.Clients != "all" && !in.isController(req.Client) {
		return false
	}
	vs := f.Verbs()
	return slices.Contains(vs, "*") || slices.Contains(vs, string(req.Verb))
}

// isController: the request comes from a controller of the strategy (any
// instance of it).
func (in *Injector) isController(client string) bool {
	for _, c := range in.env.Strategy.Controllers {
		if client == c.Name || len(client) > len(c.Name) && client[:len(c.Name)] == c.Name && client[len(c.Name)] == '#' {
			return true
		}
	}
	return false
}

func apiError(code int, req *apiserver.Request) error {
	gr := schema.GroupResource{Resource: string(req.Kind)}
	switch code {
	case 409:
		return apierrors.NewConflict(gr, req.Name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again (injected)"))
	case 429:
		return apierrors.NewTooManyRequests("the server has received too many requests and has asked us to try again later (injected)", 1)
	case 504:
		return apierrors.NewTimeoutError("the server was unable to return a response in the time allotted, but may still be processing the request (injected)", 1)
	default:
		return apierrors.NewInternalError(fmt.Errorf("injected server error"))
	}
}

// await starts the fault once its condition holds, checked on every commit
// of the condition's object, no earlier than At and for at most its timeout.
func (in *Injector) await(i int, f *Fault) {
	kind, name := f.After.Object()
	state := struct{ fired, over bool }{}
	check := func(obj apiserver.Object) {
		if state.fired || state.over || in.w.Elapsed() < f.At {
			return
		}
		if ok, _ := f.After.Holds(obj); ok {
			state.fired = true
			in.w.At(in.w.Elapsed(), func() { in.fire(i, f) })
		}
	}
	in.api.OnCommit(func(ev apiserver.Event) {
		if ev.Kind == kind && ev.Object.GetName() == name && ev.Object.GetNamespace() == metav1.NamespaceDefault {
			check(ev.Object)
		}
	})
	in.w.At(f.At, func() {
		for _, o := range in.api.Objects(kind) {
			if o.GetName() == name && o.GetNamespace() == metav1.NamespaceDefault {
				check(o)
			}
		}
	})
	in.w.At(f.At+f.WaitLimit(), func() {
		if state.fired {
			return
		}
		state.over = true
		in.Records[i].Error = fmt.Sprintf("timed out after %v waiting for %s; the fault did not happen", f.WaitLimit(), f.After)
		in.healed()
	})
}

// fire starts fault i: in a coroutine of the injector, since most faults
// talk to the API server.
func (in *Injector) fire(i int, f *Fault) {
	in.ctx.Go(fmt.Sprintf("fault-%d", i), func() {
		rec := &in.Records[i]
		start := in.api.History().Stamp(in.w.Elapsed())
		rec.Started = in.w.Elapsed().String()
		began := in.w.Elapsed()
		in.inForce++
		heal, touched, err := in.begin(f)
		rec.Touched = touched
		if err != nil {
			rec.Error = err.Error()
		}
		if f.For > 0 && (err == nil || heal != nil) {
			// The heal is due f.For after the start, however long acting
			// took (and even if the fault could act on only some targets).
			in.ctx.Sleep(max(0, began+f.For-in.w.Elapsed()))
		}
		rec.Healed = in.w.Elapsed().String() // when the heal begins
		if heal != nil {
			if err := heal(); err != nil && rec.Error == "" {
				rec.Error = "heal: " + err.Error()
			}
		}
		in.inForce--
		in.api.History().AddMark(history.Mark{Tag: "fault", What: "fault: " + f.String(), Start: start, End: in.api.History().Stamp(in.w.Elapsed())})
		in.healed()
	})
}

func (in *Injector) healed() {
	in.running--
	if in.running == 0 && in.onDone != nil {
		in.onDone()
	}
}

// begin applies the fault and returns what undoes it (nil: nothing to undo).
// An error with a heal means the fault acted on some of its targets only.
func (in *Injector) begin(f *Fault) (heal func() error, touched string, err error) {
	c := in.env.Cluster
	client := in.ctx.Client()
	switch f.Kind {
	case LoseNode, PartitionNode:
		// The simulated kubelet leaves its containers as they are either
		// way: what the API server sees is the same, and on return the
		// kubelet syncs with what happened meanwhile.
		node := nodeName(f.Target)
		if err := c.LoseNode(node); err != nil {
			return nil, "", err
		}
		return healIf(f, func() error { return c.ReturnNode(node) }), node, nil
	case DeleteNode:
		node := nodeName(f.Target)
		spec, ok := c.NodeSpec(node)
		if !ok {
			return nil, "", fmt.Errorf("no node %q", node)
		}
		if err := c.DeleteNode(node); err != nil {
			return nil, "", err
		}
		return healIf(f, func() error { return c.AddNode(spec) }), node, nil
	case CordonNode, DrainNode:
		node := nodeName(f.Target)
		var err error
		if f.Kind == DrainNode {
			err = Drain(client, node, f.GracePeriod)
		} else {
			err = cordon(client, node, true)
		}
		if err != nil {
			return nil, "", err
		}
		return healIf(f, func() error { return cordon(client, node, false) }), node, nil
	case CrashPod, KillPod, ForceDeletePod, StuckTerminating, Relabel, Annotate, FlapReadiness:
		return in.podFault(f)
	case OrphanDelete:
		return in.orphanDelete(f)
	case APILatency, APIError, LoseResponse:
		a := &activeAPI{f: f, rand: in.rand(f)}
		in.active = append(in.active, a)
		return func() error {
			in.active = slices.DeleteFunc(in.active, func(x *activeAPI) bool { return x == a })
			return nil
		}, "", nil
	case WatchDelay, WatchDrop, CrashController, StallController, SplitBrain, ClockSkew:
		return in.controllerFault(f)
	}
	return nil, "", fmt.Errorf("unknown fault kind %q", f.Kind)
}

func healIf(f *Fault, heal func() error) func() error {
	if f.For <= 0 {
		return nil
	}
	return heal
}

// rand is the fault's own random stream. It is named after the fault, not
// its place in the plan, so that dropping another fault (shrinking) does not
// change what this one draws.
func (in *Injector) rand(f *Fault) *rand.Rand {
	return in.w.Rand("fault/" + f.String() + "@" + f.At.String())
}

func nodeName(target string) string {
	if len(target) > 5 && target[:5] == "node/" {
		return target[5:]
	}
	return target
}

func cordon(client *controller.Client, node string, on bool) error {
	_, err := client.Patch(apiserver.Nodes, "", node, types.StrategicMergePatchType,
		[]byte(`{"spec":{"unschedulable":`+strconv.FormatBool(on)+`}}`), "")
	return err
}

// Drain cordons the node and deletes every pod on it but DaemonSets' (kubectl
// drain --ignore-daemonsets --force), with the given grace period (nil: each
// pod's own).
func Drain(c *controller.Client, node string, grace *int64) error {
	if err := cordon(c, node, true); err != nil {
		return err
	}
	resp := c.Do(&apiserver.Request{Verb: apiserver.List, Kind: apiserver.Pods, FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node)})
	if resp.Err != nil {
		return resp.Err
	}
	for _, o := range resp.Items {
		pod := o.(*corev1.Pod)
		if pod.Spec.NodeName != node || pod.DeletionTimestamp != nil {
			continue
		}
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil && ref.Kind == "DaemonSet" {
			continue
		}
		err := c.Delete(apiserver.Pods, pod.Namespace, pod.Name, &metav1.DeleteOptions{GracePeriodSeconds: grace})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("drain %s: deleting pod %s/%s: %w", node, pod.Namespace, pod.Name, err)
		}
	}
	return nil
}

// victims picks the fault's pods: Count of the active pods its selector
// matches (in the default namespace), chosen with the fault's stream from the
// name-sorted list.
func (in *Injector) victims(f *Fault) ([]*corev1.Pod, error) {
	sel := labels.Everything()
	if f.Selector != "" {
		var err error
		if sel, err = labels.Parse(f.Selector); err != nil {
			return nil, err
		}
	}
	var pods []*corev1.Pod
	for _, o := range in.api.Objects(apiserver.Pods) {
		p := o.(*corev1.Pod)
		if name, one := strings.CutPrefix(f.Target, "pod/"); one && p.Name != name {
			continue
		}
		if p.Namespace == metav1.NamespaceDefault && p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels)) &&
			p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	n := max(f.Count, 1)
	if len(pods) == 0 {
		return nil, fmt.Errorf("no active pod matches %s", strings.TrimSpace(f.Target+" "+f.Selector))
	}
	r := in.rand(f)
	r.Shuffle(len(pods), func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
	pods = pods[:min(n, len(pods))]
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods, nil
}

func (in *Injector) podFault(f *Fault) (func() error, string, error) {
	pods, err := in.victims(f)
	if err != nil {
		return nil, "", err
	}
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = "pod/" + p.Name
	}
	touched := fmt.Sprint(names)
	client := in.ctx.Client()
	var undo []func() error
	var failed error // the first pod the fault could not touch; the others still are
	for _, p := range pods {
		switch f.Kind {
		case CrashPod:
			err = in.env.Cluster.CrashContainer(p.Namespace + "/" + p.Name)
		case KillPod, ForceDeletePod:
			grace := f.GracePeriod
			if f.Kind == ForceDeletePod {
				zero := int64(0)
				grace = &zero
			}
			err = client.Delete(apiserver.Pods, p.Namespace, p.Name, &metav1.DeleteOptions{GracePeriodSeconds: grace})
		case FlapReadiness:
			key := p.Namespace + "/" + p.Name
			err = in.env.Cluster.SetReadinessFailing(key, true)
			// Healed whatever happened now: the flapping reaches every
			// victim later (a pod on a node that returns meanwhile too).
			undo = append(undo, func() error {
				if err := in.env.Cluster.SetReadinessFailing(key, false); err != nil && !strings.Contains(err.Error(), "not known") {
					return err
				}
				return nil
			})
		case StuckTerminating:
			if err = patchJSON(client, p, map[string]any{"metadata": map[string]any{"finalizers": append(p.Finalizers, StuckFinalizer)}}); err == nil {
				err = client.Delete(apiserver.Pods, p.Namespace, p.Name, nil)
			}
			undo = append(undo, func() error { return in.removeFinalizer(p.Namespace, p.Name) })
		case Relabel, Annotate:
			field := "labels"
			old := p.Labels
			if f.Kind == Annotate {
				field, old = "annotations", p.Annotations
			}
			if err = patchJSON(client, p, map[string]any{"metadata": map[string]any{field: edits(f.Set, f.Remove)}}); err == nil {
				undo = append(undo, func() error { return restore(client, p, field, old, f) })
			}
		}
		if err != nil && !apierrors.IsNotFound(err) && failed == nil {
			failed = fmt.Errorf("pod/%s: %w", p.Name, err)
		}
	}
	// What was done is still undone at the heal; failed says what could not
	// be done.
	if len(undo) == 0 || (f.For <= 0 && f.Kind != StuckTerminating) {
		return nil, touched, failed
	}
	if f.Kind == FlapReadiness {
		in.flap(f, pods)
	}
	return func() error {
		// Undo every pod, even past one that went away meanwhile (a pod on
		// a deleted node, say): the first error is reported.
		var first error
		for _, u := range undo {
			if err := u(); err != nil && !apierrors.IsNotFound(err) && first == nil {
				first = err
			}
		}
		return first
	}, touched, failed
}

// flap toggles the pods' readiness probe every period until the fault's
// window ends (the heal makes it pass for good).
func (in *Injector) flap(f *Fault, pods []*corev1.Pod) {
	period := f.Period
	if period <= 0 {
		period = 10 * time.Second
	}
	end := in.w.Elapsed() + f.For
	in.ctx.Go("flap", func() {
		failing := true
		for in.w.Elapsed()+period < end {
			in.ctx.Sleep(period)
			failing = !failing
			for _, p := range pods {
				// A pod that went away meanwhile has nothing to flap.
				_ = in.env.Cluster.SetReadinessFailing(p.Namespace+"/"+p.Name, failing)
			}
		}
	})
}

// edits is a merge patch of a label or annotation map: set keys, null the
// removed ones.
func edits(set map[string]string, remove []string) map[string]any {
	m := map[string]any{}
	for k, v := range set {
		m[k] = v
	}
	for _, k := range remove {
		m[k] = nil
	}
	return m
}

// restore puts back the keys the fault changed, as they were before it.
func restore(client *controller.Client, p *corev1.Pod, field string, old map[string]string, f *Fault) error {
	m := map[string]any{}
	for _, k := range append(slices.Sorted(maps.Keys(f.Set)), f.Remove...) {
		if v, ok := old[k]; ok {
			m[k] = v
		} else {
			m[k] = nil
		}
	}
	return patchJSON(client, p, map[string]any{"metadata": map[string]any{field: m}})
}

func patchJSON(client *controller.Client, p *corev1.Pod, patch map[string]any) error {
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = client.Patch(apiserver.Pods, p.Namespace, p.Name, types.MergePatchType, data, "")
	return err
}

func (in *Injector) removeFinalizer(ns, name string) error {
	client := in.ctx.Client()
	for {
		o, err := client.Get(apiserver.Pods, ns, name)
		if err != nil {
			return err
		}
		p := o.(*corev1.Pod)
		p.Finalizers = slices.DeleteFunc(p.Finalizers, func(s string) bool { return s == StuckFinalizer })
		if _, err = client.Update(p); !apierrors.IsConflict(err) {
			return err
		}
	}
}

func (in *Injector) orphanDelete(f *Fault) (func() error, string, error) {
	kind, name, ok := splitTarget(f.Target)
	if !ok {
		return nil, "", fmt.Errorf("orphan-delete needs <kind>/<name>, got %q", f.Target)
	}
	client := in.ctx.Client()
	obj, err := client.Get(kind, metav1.NamespaceDefault, name)
	if err != nil {
		return nil, "", err
	}
	orphan := metav1.DeletePropagationOrphan
	if err := client.Delete(kind, metav1.NamespaceDefault, name, &metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
		return nil, "", err
	}
	if f.For <= 0 || (f.Recreate != nil && !*f.Recreate) {
		return nil, f.Target, nil
	}
	return func() error {
		// The same object written again: a new uid, the old spec.
		fresh := obj.DeepCopyObject().(apiserver.Object)
		if f.RecreateAs != "" {
			fresh.SetName(f.RecreateAs)
		}
		fresh.SetUID("")
		fresh.SetResourceVersion("")
		fresh.SetCreationTimestamp(metav1.Time{})
		fresh.SetDeletionTimestamp(nil)
		fresh.SetDeletionGracePeriodSeconds(nil)
		fresh.SetFinalizers(nil)
		fresh.SetGeneration(0)
		fresh.SetManagedFields(nil)
		for {
			_, err := client.Create(fresh)
			if !apierrors.IsAlreadyExists(err) {
				return err
			}
			in.ctx.Sleep(time.Second) // the old one is still being deleted
		}
	}, f.Target, nil
}

func splitTarget(t string) (apiserver.Kind, string, bool) {
	for i := 0; i < len(t); i++ {
		if t[i] == '/' {
			k, ok := ShortKinds[t[:i]]
			return k, t[i+1:], ok && t[i+1:] != ""
		}
	}
	return "", "", false
}

// ShortKinds are the owner kinds a fault may name, by kubectl's names.
var ShortKinds = map[string]apiserver.Kind{
	"rs": apiserver.ReplicaSets, "replicaset": apiserver.ReplicaSets, "replicasets": apiserver.ReplicaSets,
	"rc": apiserver.ReplicationControllers, "replicationcontroller": apiserver.ReplicationControllers, "replicationcontrollers": apiserver.ReplicationControllers,
	"deploy": apiserver.Deployments, "deployment": apiserver.Deployments, "deployments": apiserver.Deployments,
	"sts": apiserver.StatefulSets, "statefulset": apiserver.StatefulSets, "statefulsets": apiserver.StatefulSets,
	"ds": apiserver.DaemonSets, "daemonset": apiserver.DaemonSets, "daemonsets": apiserver.DaemonSets,
	"hpa": apiserver.HorizontalPodAutoscalers, "horizontalpodautoscaler": apiserver.HorizontalPodAutoscalers, "horizontalpodautoscalers": apiserver.HorizontalPodAutoscalers,
}

// targets are the strategy's controllers a controller fault names: those of
// the kind in Target, or all for "*".
func (in *Injector) targets(f *Fault) ([]plugin.Controller, error) {
	var kind apiserver.Kind
	if f.Target != targetAllControls {
		k, ok := ShortKinds[f.Target]
		if !ok {
			return nil, fmt.Errorf("unknown controller %q", f.Target)
		}
		kind = k
	}
	var out []plugin.Controller
	for _, c := range in.env.Strategy.Controllers {
		if kind == "" || slices.Contains(c.Kinds, kind) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("strategy %q runs no %s controller", in.env.Strategy.Name, f.Target)
	}
	return out, nil
}

func (in *Injector) controllerFault(f *Fault) (func() error, string, error) {
	ctls, err := in.targets(f)
	if err != nil {
		return nil, "", err
	}
	var names []string
	var undo []func()
	for _, c := range ctls {
		names = append(names, c.Name)
		ctx := in.live[c.Name]
		if ctx == nil {
			continue
		}
		switch f.Kind {
		case WatchDelay:
			d := f.Delay
			prev := ctx.WatchDelay
			ctx.WatchDelay = &d
			setDelays(ctx, d)
			undo = append(undo, func() {
				// The instance running now (a crash may have replaced it).
				now := in.live[c.Name]
				now.WatchDelay = prev
				def := in.api.Config().WatchDelay
				if prev != nil {
					def = *prev
				}
				setDelays(now, def)
			})
		case WatchDrop:
			for _, wt := range ctx.Watchers() {
				{
					var err error = apierrors.NewInternalError(fmt.Errorf("watch connection dropped (injected)"))
					if f.Gone {
						err = apierrors.NewResourceExpired("too old resource version (injected)")
					}
					wt.Drop(err)
				}
			}
		case CrashController:
			// Overlapping crashes: the process stays down until the last
			// one heals, and then one instance starts.
			in.down[c.Name]++
			ctx.Kill()
			undo = append(undo, func() {
				if in.down[c.Name]--; in.down[c.Name] == 0 {
					in.restart(c)
				}
			})
		case StallController:
			ctx.Group().Freeze(in.w.Elapsed() + f.For)
		case SplitBrain:
			twin := in.startInstance(c, fmt.Sprintf("%s#split", c.Name))
			undo = append(undo, twin.Kill)
		case ClockSkew:
			in.skew[c.Name] += f.Skew
			ctx.Skew = in.skew[c.Name]
			skew := f.Skew
			undo = append(undo, func() {
				in.skew[c.Name] -= skew
				in.live[c.Name].Skew = in.skew[c.Name]
			})
		}
	}
	if len(undo) == 0 || f.For <= 0 {
		if f.Kind == CrashController && len(undo) > 0 {
			// Without a duration the controller restarts at once (a crash
			// and its supervisor's restart).
			for _, u := range undo {
				u()
			}
		}
		return nil, fmt.Sprint(names), nil
	}
	return func() error {
		for _, u := range undo {
			u()
		}
		return nil
	}, fmt.Sprint(names), nil
}

func setDelays(ctx *controller.Context, d apiserver.Dist) {
	for _, wt := range ctx.Watchers() {
		wt.SetDelay(d)
	}
}

// restart starts a new incarnation of a crashed controller: same client
// name, nothing remembered.
func (in *Injector) restart(c plugin.Controller) {
	ctx := in.startInstance(c, c.Name)
	ctx.Skew = in.skew[c.Name]
	in.live[c.Name] = ctx
}

func (in *Injector) startInstance(c plugin.Controller, name string) *controller.Context {
	in.restarts[name]++
	ctx := controller.NewContextWithStream(name, in.api, fmt.Sprintf("%s#%d", name, in.restarts[name]))
	c.Run(ctx, in.env.Trace)
	return ctx
}

// Live is the running instance of the strategy's controller name (the
// restarted one after a crash).
func (in *Injector) Live(name string) *controller.Context { return in.live[name] }

// Active reports whether a fault is in force now (started, not yet healed):
// safety bounds that hold only in calm weather are not checked then.
func (in *Injector) Active() bool { return in.inForce > 0 }

// Done reports whether every fault has healed.
func (in *Injector) Done() bool { return in.running == 0 }
