package workloads_test

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

type metricsFixture struct {
	t   *testing.T
	w   *sim.World
	api *apiserver.Server
}

func (f *metricsFixture) create(obj apiserver.Object) apiserver.Object {
	f.t.Helper()
	resp := f.api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.KindOf(obj), Namespace: "default", Object: obj})
	require.NoError(f.t, resp.Err)
	return resp.Object
}

// pod creates a pod controlled by owner (nil: none), Running since started
// (negative: Pending), with one container per request ("" requests nothing).
func (f *metricsFixture) pod(name string, owner apiserver.Object, started time.Duration, requests ...string) {
	f.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{apiserver.OwnerReference(owner)}
	}
	for i, r := range requests {
		c := corev1.Container{Name: string(rune('a' + i)), Image: "nginx"}
		if r != "" {
			c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(r)}
		}
		p.Spec.Containers = append(p.Spec.Containers, c)
	}
	created := f.create(p).(*corev1.Pod).DeepCopy()
	created.Status.Phase = corev1.PodPending
	if started >= 0 {
		created.Status.Phase = corev1.PodRunning
		for _, c := range created.Spec.Containers {
			created.Status.ContainerStatuses = append(created.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(sim.Epoch.Add(started))}}})
		}
	}
	resp := f.api.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Namespace: "default", Name: name, Subresource: "status", Object: created})
	require.NoError(f.t, resp.Err)
}

func rsNamed(name string, owner apiserver.Object) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "nginx"}}}}}}
	if owner != nil {
		rs.OwnerReferences = []metav1.OwnerReference{apiserver.OwnerReference(owner)}
	}
	return rs
}

func TestLoadMetrics(t *testing.T) {
	w := sim.New(1, sim.Limits{MaxTime: time.Hour})
	f := &metricsFixture{t: t, w: w, api: apiserver.New(w, apiserver.DefaultConfig())}
	deploy := f.create(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "nginx"}}}}}})
	webRS := f.create(rsNamed("web-1", deploy))
	other := f.create(rsNamed("other", nil))
	f.pod("d1", webRS, 0, "200m")                // a Deployment's pod
	f.pod("o1", other, 0, "100m", "")            // two containers, one without a request
	f.pod("lone", nil, 0, "1")                   // no owner
	f.pod("late", other, 40*time.Second, "100m") // started after the scrape before
	f.pod("pending", other, -1, "100m")          // not running
	stale := rsNamed("other", nil)               // a ReplicaSet of the same name, earlier
	stale.UID = types.UID("not-the-live-one")
	f.pod("stale", stale, 0, "100m")

	sc := &workloads.Scenario{Load: []workloads.LoadPoint{
		{At: 0, CPU: 10}, // every pod
		{At: 30 * time.Second, Target: "rs/other", CPU: 50},
		{At: 40 * time.Second, Target: "deploy/web", CPU: 80},
		{At: time.Minute, CPU: 20},                      // every pod, but named targets keep theirs
		{At: time.Minute, Target: "pod/lone", CPU: 300}, // equal times: the one written last
		{At: 2 * time.Minute, Target: "rs/other", CPU: 0},
	}}
	m := workloads.LoadMetrics(sc, f.api)
	read := func(at time.Duration) map[string]int64 {
		w.RunUntil(at)
		out := map[string]int64{}
		for _, pm := range m.PodMetrics("default", labels.Everything()) {
			out[pm.Name] = pm.CPU()
			assert.Equal(t, sim.Epoch.Add(at-at%workloads.MetricResolution), pm.Timestamp, "the last scrape")
			assert.Equal(t, workloads.MetricResolution, pm.Window)
		}
		return out
	}
	assert.Empty(t, read(10*time.Second), "before two scrapes nobody has a sample")
	assert.Equal(t, map[string]int64{"d1": 20, "o1": 20, "lone": 100, "stale": 10}, read(20*time.Second),
		"10% of the request; a container without one requests the default 100m")
	assert.Equal(t, map[string]int64{"d1": 20, "o1": 100, "lone": 100, "stale": 10}, read(35*time.Second),
		"rs/other: only the pods it controls (by uid)")
	assert.Equal(t, map[string]int64{"d1": 160, "o1": 100, "lone": 100, "stale": 10}, read(46*time.Second),
		"deploy/web: the pods of its ReplicaSets; late started after the scrape before this one")
	assert.Equal(t, map[string]int64{"d1": 160, "o1": 100, "lone": 3000, "stale": 20, "late": 50}, read(65*time.Second),
		"a named target beats every pod; late has run since the scrape before")
	assert.Equal(t, map[string]int64{"d1": 160, "o1": 0, "lone": 3000, "stale": 20, "late": 0}, read(2*time.Minute))
	sel, err := labels.Parse("app=nope")
	require.NoError(t, err)
	assert.Empty(t, m.PodMetrics("default", sel))
	assert.Empty(t, m.PodMetrics("kube-system", labels.Everything()))
	names := []string{}
	for _, pm := range m.PodMetrics("default", nil) {
		names = append(names, pm.Name)
	}
	assert.Equal(t, []string{"d1", "late", "lone", "o1", "stale"}, names, "in name order")
}
