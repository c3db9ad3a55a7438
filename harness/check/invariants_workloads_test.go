package check

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
)

// The clients of a run: the controllers and those that are not.
const (
	deployCtl = "deployment-controller"
	rsCtl     = "replicaset-controller"
	stsCtl    = "statefulset-controller"
	kubelet   = "kubelet/node-1"
)

// commit is one commit (or several by one client) at a virtual second.
type commit struct {
	at     float64
	client string
	put    []apiserver.Object
	del    []apiserver.Object
	fault  bool // a fault is in force at this step
}

// play commits the steps, in order, to a fresh Invariants; the store gives
// each event its old object.
func play(t *testing.T, steps []commit) Result {
	t.Helper()
	inv := newInvariants()
	fault := false
	inv.FaultActive = func() bool { return fault }
	objs := map[string]apiserver.Object{}
	for _, st := range steps {
		inv.w.RunUntil(time.Duration(st.at * float64(time.Second)))
		fault = st.fault
		for _, obj := range st.put {
			k := string(apiserver.KindOf(obj)) + "/" + obj.GetNamespace() + "/" + obj.GetName()
			old, typ := objs[k], watch.Added
			if old != nil {
				typ = watch.Modified
			}
			objs[k] = obj
			inv.Observe(ev(typ, obj, old, st.client))
		}
		for _, obj := range st.del {
			k := string(apiserver.KindOf(obj)) + "/" + obj.GetNamespace() + "/" + obj.GetName()
			old := objs[k]
			require.NotNil(t, old, "deleting %s, which does not exist", k)
			delete(objs, k)
			inv.Observe(ev(watch.Deleted, old, old, st.client))
		}
	}
	return inv.Result()
}

func i32p(n int32) *int32 { return &n }

func vtime(sec float64) metav1.Time {
	return metav1.NewTime(sim.Epoch.Add(time.Duration(sec * float64(time.Second))))
}

// web is Deployment default/web: replicas, maxSurge, maxUnavailable,
// minReadySeconds.
func web(replicas int32, surge, unavailable string, minReady int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d", Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: i32p(replicas), MinReadySeconds: minReady,
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: ptrTo(intstr.Parse(surge)), MaxUnavailable: ptrTo(intstr.Parse(unavailable))}}},
	}
}

func ptrTo[T any](v T) *T { return &v }

func with(d *appsv1.Deployment, f func(d *appsv1.Deployment)) *appsv1.Deployment {
	c := d.DeepCopy()
	f(c)
	return c
}

func controllerOf(kind, name string, uid types.UID) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: &t, BlockOwnerDeletion: &t}
}

// rset is ReplicaSet web-<hash> of Deployment web at spec replicas.
func rset(hash string, spec int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: "default", UID: types.UID("rs-" + hash),
			OwnerReferences: []metav1.OwnerReference{controllerOf("Deployment", "web", "d")}},
		Spec: appsv1.ReplicaSetSpec{Replicas: i32p(spec)},
	}
}

// rpod is pod <hash>-<i> of ReplicaSet web-<hash>; readyAt < 0: not ready.
func rpod(hash string, i int, readyAt float64) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", hash, i), Namespace: "default", UID: types.UID(fmt.Sprintf("pod-%s-%d", hash, i)),
			OwnerReferences: []metav1.OwnerReference{controllerOf("ReplicaSet", "web-"+hash, types.UID("rs-"+hash))}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if readyAt >= 0 {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: vtime(readyAt)}}
	} else {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	}
	return p
}

func dying(p *corev1.Pod) *corev1.Pod { return terminating(p) }

func objects[T apiserver.Object](xs ...T) []apiserver.Object {
	out := make([]apiserver.Object, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// steady: web on ReplicaSet web-a, all its replicas ready since 0.
func steady(d *appsv1.Deployment) []commit {
	n := int(*d.Spec.Replicas)
	var created, ready []apiserver.Object
	for i := 0; i < n; i++ {
		created = append(created, rpod("a", i, -1))
		ready = append(ready, rpod("a", i, 0))
	}
	return []commit{
		{at: 0, client: kubectlClient, put: objects(d)},
		{at: 0, client: deployCtl, put: objects(rset("a", int32(n)))},
		{at: 0, client: rsCtl, put: created},
		{at: 0, client: kubelet, put: ready},
	}
}

func concat(parts ...[]commit) []commit {
	var out []commit
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDeploymentBounds(t *testing.T) {
	surge1 := web(4, "1", "0", 0)   // at most 5 pods, at least 4 available
	unavail1 := web(4, "1", "1", 0) // at most 5 pods, at least 3 available
	for _, tc := range []struct {
		name  string
		steps []commit
		want  string // "" for pass
	}{
		{"the new ReplicaSet scaled up beyond maxSurge", concat(steady(surge1), []commit{
			{at: 10, client: deployCtl, put: objects(rset("b", 1))},
			{at: 10, client: rsCtl, put: objects(rpod("b", 0, -1))},
			{at: 20, client: kubelet, put: objects(rpod("b", 0, 20))},
			{at: 21, client: deployCtl, put: objects(rset("b", 2))}, // the old one is still at 4
			{at: 21, client: rsCtl, put: objects(rpod("b", 1, -1))},
		}), "Deployment default/web has 6 pods, more than spec.replicas 4 + maxSurge 1"},
		{"a rolling update done right, old pods deleted after new ones are created", concat(steady(surge1), []commit{
			{at: 10, client: deployCtl, put: objects(rset("b", 1))},
			{at: 10, client: rsCtl, put: objects(rpod("b", 0, -1))},
			{at: 20, client: kubelet, put: objects(rpod("b", 0, 20))},
			{at: 21, client: deployCtl, put: objects(rset("a", 3), rset("b", 2))},
			{at: 21, client: rsCtl, put: objects(rpod("b", 1, -1))}, // before the old ReplicaSet's pod goes
			{at: 22, client: rsCtl, put: objects(dying(rpod("a", 3, 0)))},
			{at: 30, client: kubelet, put: objects(rpod("b", 1, 30)), del: objects(dying(rpod("a", 3, 0)))},
			{at: 31, client: deployCtl, put: objects(rset("a", 2), rset("b", 3))},
			{at: 31, client: rsCtl, put: objects(dying(rpod("a", 2, 0)), rpod("b", 2, -1))},
			{at: 40, client: kubelet, put: objects(rpod("b", 2, 40))},
			{at: 41, client: deployCtl, put: objects(rset("a", 1), rset("b", 4))},
			{at: 41, client: rsCtl, put: objects(rpod("b", 3, -1), dying(rpod("a", 1, 0)))},
			{at: 50, client: kubelet, put: objects(rpod("b", 3, 50))},
			{at: 51, client: deployCtl, put: objects(rset("a", 0))},
			{at: 51, client: rsCtl, put: objects(dying(rpod("a", 0, 0)))},
			{at: 60, client: kubelet, del: objects(dying(rpod("a", 0, 0)), dying(rpod("a", 1, 0)), dying(rpod("a", 2, 0)))},
		}), ""},
		{"a ReplicaSet controller that creates pods beyond its lowered spec", concat(steady(surge1), []commit{
			{at: 10, client: deployCtl, put: objects(rset("b", 1))},
			{at: 10, client: rsCtl, put: objects(rpod("b", 0, -1))},
			{at: 20, client: kubelet, put: objects(rpod("b", 0, 20))},
			{at: 21, client: deployCtl, put: objects(rset("a", 3))},
			// a-3 is still to be deleted (not counted); a-4 and a-5 are created beyond spec (counted).
			{at: 22, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1))},
		}), "has 6 pods, more than spec.replicas 4 + maxSurge 1"},
		{"old pods deleted before new ones are available", concat(steady(unavail1), []commit{
			{at: 10, client: deployCtl, put: objects(rset("b", 1), rset("a", 2))},
			{at: 10, client: rsCtl, put: objects(rpod("b", 0, -1), dying(rpod("a", 3, 0)), dying(rpod("a", 2, 0)))},
		}), "Deployment default/web has 2 available pods, fewer than spec.replicas 4 - maxUnavailable 1"},
		{"old pods deleted one at a time", concat(steady(unavail1), []commit{
			{at: 10, client: deployCtl, put: objects(rset("b", 1), rset("a", 3))},
			{at: 10, client: rsCtl, put: objects(rpod("b", 0, -1), dying(rpod("a", 3, 0)))},
			{at: 20, client: kubelet, put: objects(rpod("b", 0, 20))},
			{at: 21, client: deployCtl, put: objects(rset("b", 2), rset("a", 2))},
			{at: 21, client: rsCtl, put: objects(rpod("b", 1, -1), dying(rpod("a", 2, 0)))},
		}), ""},
		{"an old pod deleted before minReadySeconds of the new one", concat(steady(web(2, "1", "0", 10)), []commit{
			{at: 20, client: deployCtl, put: objects(rset("b", 1))},
			{at: 20, client: rsCtl, put: objects(rpod("b", 0, -1))},
			{at: 30, client: kubelet, put: objects(rpod("b", 0, 30))},
			{at: 35, client: deployCtl, put: objects(rset("a", 1))},
			{at: 35, client: rsCtl, put: objects(dying(rpod("a", 0, 0)))},
		}), "has 1 available pods, fewer than spec.replicas 2 - maxUnavailable 0"},
		{"an old pod deleted after minReadySeconds of the new one", concat(steady(web(2, "1", "0", 10)), []commit{
			{at: 20, client: deployCtl, put: objects(rset("b", 1))},
			{at: 20, client: rsCtl, put: objects(rpod("b", 0, -1))},
			{at: 30, client: kubelet, put: objects(rpod("b", 0, 30))},
			{at: 41, client: deployCtl, put: objects(rset("a", 1))},
			{at: 41, client: rsCtl, put: objects(dying(rpod("a", 0, 0)))},
		}), ""},
		{"node loss, eviction and a kubectl delete are not the controller's", concat(steady(unavail1), []commit{
			{at: 10, client: cluster.ClientNodeLifecycle, put: objects(rpod("a", 0, -1), rpod("a", 1, -1))},
			{at: 310, client: cluster.ClientTaintEviction, put: objects(dying(rpod("a", 0, -1)), dying(rpod("a", 1, -1)))},
			{at: 320, client: kubectlClient, put: objects(dying(rpod("a", 2, 0)))},
			{at: 320, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1), rpod("a", 6, -1))},
		}), ""},
		{"re-armed after an outside disruption", concat(steady(unavail1), []commit{
			{at: 10, client: cluster.ClientNodeLifecycle, put: objects(rpod("a", 0, -1), rpod("a", 1, -1))},
			{at: 20, client: rsCtl, put: objects(dying(rpod("a", 3, 0)))}, // not checked: disarmed
			{at: 30, client: kubelet, put: objects(rpod("a", 0, 30), rpod("a", 1, 30))},
			{at: 40, client: rsCtl, put: objects(dying(rpod("a", 2, 0)))},
		}), "has 2 available pods, fewer than spec.replicas 4 - maxUnavailable 1"},
		{"a drain: kubectl evicts available pods", concat(steady(unavail1), []commit{
			{at: 10, client: kubectlClient, put: objects(dying(rpod("a", 0, 0)), dying(rpod("a", 1, 0)))},
		}), ""},
		{"taint eviction of ready pods", concat(steady(unavail1), []commit{
			{at: 10, client: cluster.ClientTaintEviction, put: objects(dying(rpod("a", 0, 0)), dying(rpod("a", 1, 0)))},
		}), ""},
		{"a fault's kill-pod, even when FaultActive misses it", concat(steady(unavail1), []commit{
			{at: 10, client: chaosClient, put: objects(dying(rpod("a", 0, 0)), dying(rpod("a", 1, 0)))},
		}), ""},
		{"pod GC force-deleting ready pods", concat(steady(unavail1), []commit{
			{at: 10, client: cluster.ClientPodGC, del: objects(rpod("a", 0, 0), rpod("a", 1, 0))},
		}), ""},
		{"the same deletions by the controller", concat(steady(unavail1), []commit{
			{at: 10, client: rsCtl, del: objects(rpod("a", 0, 0), rpod("a", 1, 0))},
		}), "has 2 available pods, fewer than spec.replicas 4 - maxUnavailable 1"},
		{"a Deployment untouched during a fault must hold again after it", concat(steady(surge1), []commit{
			{at: 5, client: rsCtl, put: objects(rpod("a", 4, -1))}, // 5 pods: armed
			{at: 10, client: kubectlClient, put: objects(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "default", UID: "bare"}}), fault: true},
			{at: 20, client: rsCtl, put: objects(rpod("a", 5, -1))}, // 6 at the first commit after the fault: not armed
		}), ""},
		{"a crashing container", concat(steady(unavail1), []commit{
			{at: 10, client: kubelet, put: objects(rpod("a", 0, -1), rpod("a", 1, -1))},
		}), ""},
		{"a scale-up: new pods are not available yet", concat(steady(unavail1), []commit{
			{at: 10, client: kubectlClient, put: objects(with(unavail1, func(d *appsv1.Deployment) { d.Spec.Replicas = i32p(8) }))},
			{at: 11, client: deployCtl, put: objects(rset("a", 8))},
			{at: 11, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1), rpod("a", 6, -1), rpod("a", 7, -1))},
			{at: 20, client: kubelet, put: objects(rpod("a", 4, 20), rpod("a", 5, 20), rpod("a", 6, 20), rpod("a", 7, 20))},
		}), ""},
		{"re-armed after a scale-up", concat(steady(unavail1), []commit{
			{at: 10, client: kubectlClient, put: objects(with(unavail1, func(d *appsv1.Deployment) { d.Spec.Replicas = i32p(6) }))},
			{at: 11, client: deployCtl, put: objects(rset("a", 6))},
			{at: 11, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1))},
			{at: 20, client: kubelet, put: objects(rpod("a", 4, 20), rpod("a", 5, 20))},
			{at: 21, client: deployCtl, put: objects(rset("a", 8))}, // beyond 6 + 1
			{at: 21, client: rsCtl, put: objects(rpod("a", 6, -1), rpod("a", 7, -1))},
		}), "has 8 pods, more than spec.replicas 6 + maxSurge 1"},
		{"a scale-down: old pods are still being deleted", concat(steady(unavail1), []commit{
			{at: 10, client: kubectlClient, put: objects(with(unavail1, func(d *appsv1.Deployment) { d.Spec.Replicas = i32p(1) }))},
			{at: 11, client: rsCtl, put: objects(rpod("a", 4, -1))}, // a late replacement, before the RS is scaled down
			{at: 12, client: deployCtl, put: objects(rset("a", 1))},
			{at: 12, client: rsCtl, put: objects(dying(rpod("a", 1, 0)), dying(rpod("a", 2, 0)), dying(rpod("a", 3, 0)), dying(rpod("a", 4, -1)))},
		}), ""},
		{"paused: not checked", concat(steady(surge1), []commit{
			{at: 10, client: kubectlClient, put: objects(with(surge1, func(d *appsv1.Deployment) { d.Spec.Paused = true }))},
			{at: 11, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1), dying(rpod("a", 0, 0)))},
		}), ""},
		{"resumed: checked again", concat(steady(surge1), []commit{
			{at: 10, client: kubectlClient, put: objects(with(surge1, func(d *appsv1.Deployment) { d.Spec.Paused = true }))},
			{at: 20, client: kubectlClient, put: objects(surge1)},
			{at: 21, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1))},
		}), "has 6 pods, more than spec.replicas 4 + maxSurge 1"},
		{"Recreate: not checked", concat(steady(with(surge1, func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		})), []commit{
			{at: 10, client: deployCtl, put: objects(rset("a", 0))},
			{at: 10, client: rsCtl, put: objects(dying(rpod("a", 0, 0)), dying(rpod("a", 1, 0)), dying(rpod("a", 2, 0)), dying(rpod("a", 3, 0)))},
		}), ""},
		{"a fault hides a violation while it lasts and just after", concat(steady(surge1), []commit{
			{at: 10, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1)), fault: true},
			{at: 20, client: kubelet, put: objects(rpod("a", 4, 20))},
			{at: 21, client: rsCtl, put: objects(rpod("a", 6, -1))}, // still above: never held since the fault
		}), ""},
		{"after a fault the bound is checked once it held again", concat(steady(surge1), []commit{
			{at: 10, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1)), fault: true},
			{at: 20, client: rsCtl, put: objects(dying(rpod("a", 4, -1)), dying(rpod("a", 5, -1)))},
			{at: 30, client: rsCtl, put: objects(rpod("a", 6, -1), rpod("a", 7, -1))},
		}), "has 6 pods, more than spec.replicas 4 + maxSurge 1"},
		{"an adopted ReplicaSet brings its pods", concat(steady(surge1), []commit{
			{at: 10, client: kubectlClient, put: objects(func() *appsv1.ReplicaSet { r := rset("x", 2); r.OwnerReferences = nil; return r }())},
			{at: 10, client: rsCtl, put: objects(rpod("x", 0, 10), rpod("x", 1, 10))},
			{at: 20, client: deployCtl, put: objects(rset("x", 2))},
		}), ""},
		{"an adopted pod", concat(steady(surge1), []commit{
			{at: 10, client: kubectlClient, put: objects(func() *corev1.Pod { p := rpod("a", 9, 10); p.OwnerReferences = nil; return p }(),
				func() *corev1.Pod { p := rpod("a", 8, 10); p.OwnerReferences = nil; return p }())},
			{at: 20, client: rsCtl, put: objects(rpod("a", 9, 10), rpod("a", 8, 10))},
		}), ""},
		{"a released pod", concat(steady(surge1), []commit{
			{at: 10, client: rsCtl, put: objects(func() *corev1.Pod { p := rpod("a", 0, 0); p.OwnerReferences = nil; return p }())},
		}), ""},
		{"the ReplicaSet deleted by kubectl, its pods by the garbage collector", concat(steady(surge1), []commit{
			{at: 10, client: kubectlClient, del: objects(rset("a", 4))},
			{at: 11, client: cluster.ClientGarbageCollector, put: objects(dying(rpod("a", 0, 0)))},
			{at: 12, client: deployCtl, put: objects(rset("b", 4))},
			{at: 12, client: rsCtl, put: objects(rpod("b", 0, -1), rpod("b", 1, -1), rpod("b", 2, -1), rpod("b", 3, -1))},
		}), ""},
		{"the Deployment deleted", concat(steady(surge1), []commit{
			{at: 10, client: kubectlClient, del: objects(surge1)},
			{at: 11, client: cluster.ClientGarbageCollector, put: objects(dying(rpod("a", 0, 0)))},
			{at: 12, client: rsCtl, put: objects(rpod("a", 4, -1), rpod("a", 5, -1))},
		}), ""},
		{"maxUnavailable and maxSurge 0 make maxUnavailable 1", concat(steady(web(4, "0", "0", 0)), []commit{
			{at: 10, client: deployCtl, put: objects(rset("a", 2))},
			{at: 10, client: rsCtl, put: objects(dying(rpod("a", 0, 0)), dying(rpod("a", 1, 0)))},
		}), "has 2 available pods, fewer than spec.replicas 4 - maxUnavailable 1"},
		{"percentages: surge rounded up", concat(steady(web(4, "10%", "0", 0)), []commit{
			{at: 10, client: rsCtl, put: objects(rpod("a", 4, -1))},
		}), ""},
		{"percentages: unavailable rounded down", concat(steady(web(4, "0", "40%", 0)), []commit{
			{at: 10, client: deployCtl, put: objects(rset("a", 2))},
			{at: 10, client: rsCtl, put: objects(dying(rpod("a", 0, 0)), dying(rpod("a", 1, 0)))},
		}), "has 2 available pods, fewer than spec.replicas 4 - maxUnavailable 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := play(t, tc.steps)
			if tc.want == "" {
				assert.Equal(t, Pass, r.Verdict, r.Message)
			} else {
				assert.Equal(t, Fail, r.Verdict)
				assert.Contains(t, r.Message, tc.want)
			}
		})
	}
}

// stsPod is pod name of StatefulSet web (uid) with labels.
func stsPod(name string, uid types.UID, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: labels,
		OwnerReferences: []metav1.OwnerReference{controllerOf("StatefulSet", "web", uid)}}}
}

func TestStatefulSetOnePodPerOrdinal(t *testing.T) {
	idx := func(i string) map[string]string { return map[string]string{appsv1.PodIndexLabel: i} }
	web0 := stsPod("web-0", "s", nil)
	for _, tc := range []struct {
		name  string
		steps []commit
		want  string
	}{
		{"a replacement created while the old pod is terminating", []commit{
			{at: 0, client: stsCtl, put: objects(web0)},
			{at: 10, client: kubectlClient, put: objects(terminating(web0))},
			{at: 11, client: stsCtl, put: objects(stsPod("web-0-b", "s", idx("0")))},
		}, "Pod default/web-0-b was created as ordinal 0 of StatefulSet web while Pod default/web-0 still exists"},
		{"a replacement created once the old pod is gone", []commit{
			{at: 0, client: stsCtl, put: objects(web0)},
			{at: 10, client: kubectlClient, put: objects(terminating(web0))},
			{at: 40, client: kubelet, del: objects(terminating(web0))},
			{at: 41, client: stsCtl, put: objects(stsPod("web-0", "s", idx("0")))},
		}, ""},
		{"the ordinal from the pod-name label", []commit{
			{at: 0, client: stsCtl, put: objects(stsPod("web-1", "s", nil))},
			{at: 1, client: stsCtl, put: objects(stsPod("other", "s", map[string]string{appsv1.StatefulSetPodNameLabel: "web-1"}))},
		}, "Pod default/other was created as ordinal 1 of StatefulSet web while Pod default/web-1 still exists"},
		{"the pod-index label wins over the name", []commit{
			{at: 0, client: stsCtl, put: objects(stsPod("web-1", "s", idx("2")))},
			{at: 1, client: stsCtl, put: objects(stsPod("web-2", "s", nil))},
		}, "Pod default/web-2 was created as ordinal 2 of StatefulSet web while Pod default/web-1 still exists"},
		{"other ordinals", []commit{
			{at: 0, client: stsCtl, put: objects(web0, stsPod("web-1", "s", nil), stsPod("web-2", "s", idx("2")))},
		}, ""},
		{"a StatefulSet of the same name, recreated", []commit{
			{at: 0, client: stsCtl, put: objects(web0)},
			{at: 10, client: kubectlClient, put: objects(terminating(web0))},
			{at: 11, client: stsCtl, put: objects(stsPod("web-0-new", "s2", idx("0")))},
		}, ""},
		{"a released pod holds no identity", []commit{
			{at: 0, client: stsCtl, put: objects(web0)},
			{at: 10, client: stsCtl, put: objects(func() *corev1.Pod { p := web0.DeepCopy(); p.OwnerReferences = nil; return p }())},
			{at: 11, client: stsCtl, put: objects(stsPod("web-0-b", "s", idx("0")))},
		}, ""},
		{"adopting a pod into a taken identity", []commit{
			{at: 0, client: stsCtl, put: objects(web0)},
			{at: 1, client: kubectlClient, put: objects(func() *corev1.Pod { p := stsPod("web-0-b", "s", idx("0")); p.OwnerReferences = nil; return p }())},
			{at: 2, client: stsCtl, put: objects(stsPod("web-0-b", "s", idx("0")))},
		}, "Pod default/web-0-b became ordinal 0 of StatefulSet web while Pod default/web-0 still exists"},
		{"a pod without an ordinal", []commit{
			{at: 0, client: stsCtl, put: objects(stsPod("web-x", "s", nil), stsPod("web-y", "s", nil))},
		}, ""},
		{"a pod of a ReplicaSet named like an ordinal", []commit{
			{at: 0, client: rsCtl, put: objects(func() *corev1.Pod { p := web0.DeepCopy(); p.OwnerReferences[0].Kind = "ReplicaSet"; return p }())},
			{at: 1, client: stsCtl, put: objects(stsPod("web-0-b", "s", idx("0")))},
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := play(t, tc.steps)
			if tc.want == "" {
				assert.Equal(t, Pass, r.Verdict, r.Message)
			} else {
				assert.Equal(t, Fail, r.Verdict)
				assert.Contains(t, r.Message, tc.want)
			}
		})
	}
}

// The state the StatefulSet identities keep goes with the pods.
func TestStatefulSetIdentitiesForgetDeletedPods(t *testing.T) {
	inv := newInvariants()
	p := stsPod("web-0", "s", nil)
	inv.Observe(ev(watch.Added, p, nil, stsCtl))
	inv.Observe(ev(watch.Deleted, p, p, kubelet))
	assert.Empty(t, inv.wl.holders)
	assert.Empty(t, inv.wl.identity)
}

// Random changes to one Deployment's ReplicaSets and pods (adoptions,
// releases, scaling, readiness, deletions, minReadySeconds, time passing):
// the incremental counts must equal counts from scratch after every commit.
func TestDeploymentBoundsCountsAgreeWithScratch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 30; round++ {
		inv := newInvariants()
		objs := map[string]apiserver.Object{}
		put := func(obj apiserver.Object, client string) {
			k := string(apiserver.KindOf(obj)) + "/" + obj.GetName()
			old, typ := objs[k], watch.Added
			if old != nil {
				typ = watch.Modified
			}
			objs[k] = obj
			inv.Observe(ev(typ, obj, old, client))
		}
		del := func(k string, client string) {
			if old := objs[k]; old != nil {
				delete(objs, k)
				inv.Observe(ev(watch.Deleted, old, old, client))
			}
		}
		hashes := []string{"a", "b", "c"}
		gen := map[string]int{} // a ReplicaSet created again gets a new uid
		uidOf := func(hash string) types.UID { return types.UID(fmt.Sprintf("rs-%s-%d", hash, gen[hash])) }
		now := 0.0
		for i := 0; i < 200; i++ {
			now += float64(r.IntN(4))
			inv.w.RunUntil(time.Duration(now * float64(time.Second)))
			clients := []string{rsCtl, deployCtl, kubelet, kubectlClient}
			client := clients[r.IntN(len(clients))]
			switch k := r.IntN(20); {
			case k < 2:
				put(web(int32(r.IntN(5)), "1", "1", int32(r.IntN(3)*5)), client)
			case k < 3:
				del("Deployment/web", client)
			case k < 6:
				hash := hashes[r.IntN(3)]
				rs := rset(hash, int32(r.IntN(5)))
				rs.UID = uidOf(hash)
				if r.IntN(5) == 0 {
					rs.OwnerReferences = nil
				}
				put(rs, client)
			case k < 7:
				hash := hashes[r.IntN(3)]
				if objs["ReplicaSet/web-"+hash] != nil {
					del("ReplicaSet/web-"+hash, client)
					gen[hash]++
				}
			case k < 17:
				readyAt := -1.0
				if r.IntN(3) > 0 {
					readyAt = now - float64(r.IntN(12))
				}
				hash := hashes[r.IntN(3)]
				p := rpod(hash, r.IntN(4), readyAt)
				p.OwnerReferences[0].UID = uidOf(hash)
				if objs["ReplicaSet/web-"+hash] == nil {
					p.OwnerReferences[0].UID = "gone" // pods name only ReplicaSets that exist, or existed
				}
				switch r.IntN(9) {
				case 0:
					p = terminating(p)
				case 1:
					p.OwnerReferences = nil
				case 2:
					p.Status.Phase = corev1.PodSucceeded
				case 3:
					p.Status.Conditions[0].LastTransitionTime = metav1.Time{} // ready since an unknown time
				}
				put(p, client)
			default:
				del(fmt.Sprintf("Pod/%s-%d", hashes[r.IntN(3)], r.IntN(4)), client)
			}
			checkCountsFromScratch(t, inv, objs, fmt.Sprintf("round %d step %d", round, i))
		}
	}
}

func checkCountsFromScratch(t *testing.T, inv *Invariants, objs map[string]apiserver.Object, at string) {
	t.Helper()
	s := inv.workloads()
	var dep *appsv1.Deployment
	if o, ok := objs["Deployment/web"]; ok {
		dep = o.(*appsv1.Deployment)
	}
	d := s.deps["d"]
	if dep == nil {
		require.Nil(t, d, at)
		return
	}
	require.NotNil(t, d, at)
	ours := map[types.UID]*appsv1.ReplicaSet{}
	for _, o := range objs {
		if rs, ok := o.(*appsv1.ReplicaSet); ok {
			if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == "d" {
				ours[rs.UID] = rs
			}
		}
	}
	require.Len(t, d.rss, len(ours), at)
	activeByRS := map[types.UID]int32{}
	var ready, available int32
	now := inv.w.Now()
	minReady := time.Duration(dep.Spec.MinReadySeconds) * time.Second
	for _, o := range objs {
		p, ok := o.(*corev1.Pod)
		if !ok {
			continue
		}
		ref := metav1.GetControllerOf(p)
		if ref == nil || ours[ref.UID] == nil || !active(p) {
			continue
		}
		activeByRS[ref.UID]++
		if ok, since := readySince(p); ok {
			ready++
			if availableSince(since, minReady, now) {
				available++
			}
		}
	}
	var pods int32
	for uid, rs := range ours {
		require.True(t, d.rss[uid], at)
		rb := s.rss[uid]
		require.Equal(t, activeByRS[uid], rb.active, "%s: active pods of %s", at, rs.Name)
		require.Equal(t, *rs.Spec.Replicas, rb.spec, at)
		require.GreaterOrEqual(t, rb.allow, int32(0), at)
		require.LessOrEqual(t, rb.allow, max(0, rb.active-rb.spec), at)
		pods += rb.active - rb.allow
	}
	require.Equal(t, pods, d.pods, "%s: counted pods", at)
	s.promote(d, now)
	require.Equal(t, available, d.avail, "%s: available pods", at)
	require.Equal(t, ready, d.avail+int32(len(d.pending)), "%s: ready pods", at)
}
