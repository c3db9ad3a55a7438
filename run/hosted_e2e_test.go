package run_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/host"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// keepPods is a ReplicaSet controller written the plain client-go way, with
// no informers: it lists and watches ReplicaSets, and a ticker makes it look
// again every five seconds (it does not watch pods). It is not upstream's;
// it exists to drive every part of hosting: requests of every verb, a watch
// stream, a wall-clock ticker, and goroutines of its own.
func keepPods(ctx context.Context, config *rest.Config) error {
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		list, err := cs.AppsV1().ReplicaSets("").List(ctx, metav1.ListOptions{})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for i := range list.Items {
			reconcile(ctx, cs, &list.Items[i])
		}
		w, err := cs.AppsV1().ReplicaSets("").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		watching(ctx, cs, w, tick.C)
		w.Stop()
	}
	return nil
}

func watching(ctx context.Context, cs kubernetes.Interface, w watch.Interface, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			return // list again
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			if rs, ok := ev.Object.(*appsv1.ReplicaSet); ok && ev.Type != watch.Deleted {
				reconcile(ctx, cs, rs)
			}
		}
	}
}

func reconcile(ctx context.Context, cs kubernetes.Interface, rs *appsv1.ReplicaSet) {
	sel := metav1.FormatLabelSelector(rs.Spec.Selector)
	pods, err := cs.CoreV1().Pods(rs.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return
	}
	var mine []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && metav1.IsControlledBy(&p, rs) {
			mine = append(mine, p)
		}
	}
	want := int(*rs.Spec.Replicas)
	for i := len(mine); i < want; i++ {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: rs.Name + "-", Namespace: rs.Namespace,
			Labels:          rs.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
			Spec: rs.Spec.Template.Spec}
		_, _ = cs.CoreV1().Pods(rs.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	}
	slices.SortFunc(mine, func(a, b corev1.Pod) int { return -compareNames(a.Name, b.Name) })
	for i := 0; i < len(mine)-want; i++ {
		_ = cs.CoreV1().Pods(rs.Namespace).Delete(ctx, mine[i].Name, metav1.DeleteOptions{})
	}
	ready := 0
	for _, p := range mine {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	rs = rs.DeepCopy()
	rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = int32(min(len(mine), want)), int32(min(ready, want)), int32(min(ready, want))
	rs.Status.ObservedGeneration = rs.Generation
	_, _ = cs.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
}

func compareNames(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// A controller built on client-go, unmodified, runs against the simulated
// API server through package host: it converges, and a run is a function of
// its seed.
func TestHostedClientGoController(t *testing.T) {
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	st := up.With(host.Controller("keep-pods", []apiserver.Kind{apiserver.ReplicaSets}, keepPods))
	st.Name, st.WallClock = "keep-pods", true
	sc, err := workloads.Lookup("rs-self-heal")
	require.NoError(t, err)

	var digests []string
	for range 2 {
		res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 5})
		require.NoError(t, err)
		assert.Equal(t, run.Pass, res.Summary.Verdict, "%+v", res.Summary)
		assert.NotZero(t, res.Summary.Requests["watch"], "it watched")
		assert.NotZero(t, res.Summary.PodsCreated)
		digests = append(digests, res.Summary.Digest)
		t.Log(fmt.Sprintf("%+v", res.Summary.Requests), res.Summary.VirtualTime, res.Summary.ConvergenceLatency)
	}
	assert.Equal(t, digests[0], digests[1])
}

// burst creates twenty pods at once from twenty goroutines, as a slow-start
// batch does, then waits for the end of the run.
func burst(ctx context.Context, config *rest.Config) error {
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("burst-%02d", i), Namespace: "default"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
			_, _ = cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
		})
	}
	wg.Wait()
	<-ctx.Done()
	return nil
}

// Requests that hosted goroutines send at once reach the API server in an
// order made from what they ask, not from which goroutine ran first: twenty
// concurrent creates commit in the same order run after run.
func TestHostedConcurrentRequestsKeepOneOrder(t *testing.T) {
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	st := up.With(host.Controller("burst", []apiserver.Kind{apiserver.DaemonSets}, burst))
	st.Name, st.WallClock = "burst", true
	sc, err := workloads.Lookup("rs-self-heal")
	require.NoError(t, err)
	var orders [][]string
	for range 5 {
		res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1})
		require.NoError(t, err)
		var order []string
		for _, op := range res.History {
			if op.Client == "burst" && op.Verb == "create" {
				order = append(order, op.Key)
			}
		}
		require.Len(t, order, 20)
		orders = append(orders, order)
	}
	for _, o := range orders[1:] {
		assert.Equal(t, orders[0], o)
	}
}

// The resource metrics API (metrics.k8s.io, what an HPA reads) is served to
// hosted clients from the scenario's load: at 3 minutes rs-hpa's frontend
// pods use 90 % of their 100m CPU request.
func TestHostedPodMetrics(t *testing.T) {
	var got []byte
	read := func(ctx context.Context, config *rest.Config) error {
		cs, err := kubernetes.NewForConfig(config)
		if err != nil {
			return err
		}
		time.Sleep(3 * time.Minute) // virtual
		got, err = cs.CoreV1().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods").
			Param("labelSelector", "tier=frontend").DoRaw(ctx)
		if err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	st := up.With(host.Controller("metrics-reader", []apiserver.Kind{apiserver.DaemonSets}, read))
	st.Name, st.WallClock = "metrics-reader", true
	sc, err := workloads.Lookup("rs-hpa")
	require.NoError(t, err)
	_, err = run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1})
	require.NoError(t, err)

	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Containers []struct {
				Usage map[string]string `json:"usage"`
			} `json:"containers"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(got, &list), "%s", got)
	assert.Equal(t, "PodMetricsList", list.Kind)
	require.NotEmpty(t, list.Items, "%s", got)
	for _, it := range list.Items {
		assert.Equal(t, "90m", it.Containers[0].Usage["cpu"], "%s", got)
	}
}
