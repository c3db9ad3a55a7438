package models_test

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// tinyReplicaSets is about the smallest ReplicaSet controller that converges:
// informers for ReplicaSets and pods whose handlers only enqueue keys, one
// worker coroutine, no expectations and no adoption. (examples/oldest-first
// in the repository is a complete one.)
func tinyReplicaSets(ctx *controller.Context, tr *trace.Recorder) {
	rsets := ctx.Informer(apiserver.ReplicaSets)
	pods := ctx.Informer(apiserver.Pods)
	queue := controller.NewQueue[string](ctx.World(), ctx.Name(), nil)

	// Handlers run outside coroutines: they must not block, so they only
	// enqueue the key of the ReplicaSet concerned.
	enqueue := func(obj apiserver.Object) { queue.Add(obj.GetNamespace() + "/" + obj.GetName()) }
	enqueueOwner := func(obj apiserver.Object) {
		if ref := metav1.GetControllerOfNoCopy(obj); ref != nil && ref.Kind == "ReplicaSet" {
			queue.Add(obj.GetNamespace() + "/" + ref.Name)
		}
	}
	rsets.AddHandler(controller.Handler{OnAdd: enqueue, OnUpdate: func(_, cur apiserver.Object) { enqueue(cur) }})
	pods.AddHandler(controller.Handler{OnAdd: enqueueOwner, OnUpdate: func(_, cur apiserver.Object) { enqueueOwner(cur) }, OnDelete: enqueueOwner})

	// The worker is a coroutine: it may block on the queue and the API.
	ctx.Go("worker", func() {
		rsets.WaitForCacheSync()
		pods.WaitForCacheSync()
		for {
			key, shutdown := queue.Get()
			if shutdown {
				return
			}
			if err := syncTiny(ctx, rsets, pods, key); err != nil {
				queue.AddRateLimited(key)
			} else {
				queue.Forget(key)
			}
			queue.Done(key)
		}
	})
}

func syncTiny(ctx *controller.Context, rsets, pods *controller.Informer, key string) error {
	ns, name, _ := strings.Cut(key, "/")
	obj := rsets.Get(ns, name)
	if obj == nil {
		return nil
	}
	rs := obj.(*appsv1.ReplicaSet) // shared with the cache: never modify it
	var mine []*corev1.Pod
	ready := int32(0)
	for _, o := range pods.ByIndex(controller.IndexOwnerUID, string(rs.UID)) {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp != nil || !metav1.IsControlledBy(p, rs) {
			continue
		}
		mine = append(mine, p)
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	// The cache's order is deterministic but not meaningful: sort before
	// choosing.
	sort.Slice(mine, func(i, j int) bool { return mine[i].Name < mine[j].Name })
	want := int(*rs.Spec.Replicas)
	for range want - len(mine) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: name + "-", Labels: rs.Spec.Template.Labels,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
			Spec: *rs.Spec.Template.Spec.DeepCopy(),
		}
		if _, err := ctx.Client().Create(pod); err != nil {
			return err
		}
	}
	for _, p := range mine[min(want, len(mine)):] {
		if err := ctx.Client().Delete(apiserver.Pods, ns, p.Name, nil); err != nil {
			return err
		}
	}
	if rs.Status.Replicas == int32(len(mine)) && rs.Status.ReadyReplicas == ready && rs.Status.ObservedGeneration == rs.Generation {
		return nil
	}
	cp := rs.DeepCopy()
	cp.Status.Replicas, cp.Status.ReadyReplicas, cp.Status.ObservedGeneration = int32(len(mine)), ready, rs.Generation
	_, err := ctx.Client().UpdateStatus(cp)
	return err
}

// A controller plugged into upstream's strategy in place of its ReplicaSet
// controller, run on a catalog scenario: the verdict, each check, and the
// same history again from the same seed.
func Example() {
	st := models.UpstreamWith(plugin.Controller{Name: "tiny", Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Run: tinyReplicaSets})
	st.Name = "tiny"

	runOnce := func() run.Summary {
		sc, err := workloads.Lookup("rs-self-heal") // a fresh copy each time
		if err != nil {
			panic(err)
		}
		res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1})
		if err != nil {
			panic(err) // the run could not start: the strategy cannot run the scenario
		}
		return res.Summary
	}
	first, second := runOnce(), runOnce()
	fmt.Println(first.Scenario, first.Strategy, first.Verdict)
	for _, c := range first.Checks {
		fmt.Println(" ", c.Check, c.Verdict)
	}
	fmt.Println("the same seed, the same digest:", first.Digest == second.Digest)
	// Output:
	// rs-self-heal tiny pass
	//   steps pass
	//   convergence pass
	//   invariants pass
	//   linearizability pass
	//   watch pass
	// the same seed, the same digest: true
}

// With swaps a controller into a strategy: it replaces every controller that
// runs one of the new one's kinds and keeps the others.
func ExampleStrategy_With() {
	up, err := models.Lookup("upstream")
	if err != nil {
		panic(err)
	}
	st := up.With(plugin.Controller{Name: "tiny", Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Run: tinyReplicaSets})
	st.Name, st.Summary = "tiny", "ReplicaSets by the tiny controller; the rest as upstream"

	for _, c := range st.Controllers {
		for _, k := range c.Kinds {
			if k == apiserver.ReplicaSets || k == apiserver.ReplicationControllers {
				fmt.Println(k, "→", c.Name)
			}
		}
	}
	fmt.Println("as many controllers as upstream:", len(st.Controllers) == len(up.Controllers))
	// Output:
	// ReplicaSet → tiny
	// ReplicationController → upstream/rc
	// as many controllers as upstream: true
}

// Register makes a strategy available by name to everything that looks
// strategies up (models.Lookup, and so a program's own command line). A
// plug-in registers once, from an init function of its package, as
// examples/oldest-first does: registering a name twice panics.
func ExampleRegister() {
	st := models.UpstreamWith(plugin.Controller{Name: "example-tiny", Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Run: tinyReplicaSets})
	st.Name, st.Summary = "example-tiny", "ReplicaSets by the tiny controller; the rest as upstream"
	models.Register(st)

	got, err := models.Lookup("example-tiny")
	fmt.Println(got.Name, err)
	fmt.Println(got.Summary)
	// Output:
	// example-tiny <nil>
	// ReplicaSets by the tiny controller; the rest as upstream
}

// allReady is a convergence predicate of your own: every ReplicaSet reports
// as many ready replicas as it wants. It keeps what it needs from the
// committed changes (Observe) so that Holds is cheap.
type allReady struct {
	unready map[string]string // ReplicaSet key → why
}

func (p *allReady) Observe(ev apiserver.Event) {
	rs, ok := ev.Object.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	delete(p.unready, ev.Key)
	if want := *rs.Spec.Replicas; ev.Type != watch.Deleted && rs.Status.ReadyReplicas != want {
		p.unready[ev.Key] = fmt.Sprintf("%s: %d of %d ready", ev.Key, rs.Status.ReadyReplicas, want)
	}
}

func (p *allReady) Holds() (bool, string) {
	keys := make([]string, 0, len(p.unready))
	for k := range p.unready {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order must not reach an output
	if len(keys) > 0 {
		return false, p.unready[keys[0]]
	}
	return true, ""
}

// A predicate and an invariant of your own, next to the built-in checks:
// run.Config.Setup sees the cluster before anything starts, so an OnCommit
// hook there observes every committed change of the run. Here the
// predicate, combined with the built-in ReplicaSet predicate by check.All,
// is asked at the end of the run; the invariant (every pod the controller
// creates has it as controller) is checked on every commit.
func Example_predicate() {
	st := models.UpstreamWith(plugin.Controller{Name: "tiny", Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Run: tinyReplicaSets})
	st.Name = "tiny"
	sc, err := workloads.Lookup("rs-self-heal")
	if err != nil {
		panic(err)
	}

	// The strategy carries its own checks: a fresh predicate and invariant
	// for each run. The convergence check wants the predicate to hold too;
	// the invariant's first error fails the invariants check.
	st.Predicate = func() check.Predicate { return &allReady{unready: map[string]string{}} }
	st.Invariant = func() func(apiserver.Event) error {
		return func(ev apiserver.Event) error {
			if ev.Client != "tiny" || ev.Kind != apiserver.Pods || ev.Type != watch.Added {
				return nil
			}
			if ref := metav1.GetControllerOfNoCopy(ev.Object); ref == nil || ref.Kind != "ReplicaSet" {
				return fmt.Errorf("pod %s created without a ReplicaSet controller reference", ev.Key)
			}
			return nil
		}
	}
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("verdict:", res.Summary.Verdict)
	for _, c := range res.Summary.Checks {
		if c.Check == "convergence" || c.Check == "invariants" {
			fmt.Println(c.Check, c.Verdict)
		}
	}
	// Output:
	// verdict: pass
	// convergence pass
	// invariants pass
}

// A controller that panics stops (all its coroutines) and fails the run; the
// failure names it, the virtual time and the seed, so the run replays. The
// other controllers and the checks go on.
func Example_failure() {
	st := models.UpstreamWith(plugin.Controller{Name: "panicky", Kinds: []apiserver.Kind{apiserver.ReplicaSets},
		Run: func(ctx *controller.Context, tr *trace.Recorder) {
			ctx.Go("worker", func() {
				ctx.Sleep(time.Second) // virtual time: free
				panic("boom")
			})
		}})
	st.Name = "panicky"
	sc, err := workloads.Lookup("rs-self-heal")
	if err != nil {
		panic(err)
	}
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 7})
	if err != nil {
		panic(err)
	}
	fmt.Println("verdict:", res.Summary.Verdict)
	for _, f := range res.Summary.Failures {
		fmt.Println(f.Error())
	}
	// Output:
	// verdict: fail
	// panicky: panic at virtual time 1s (seed 7): boom
}
