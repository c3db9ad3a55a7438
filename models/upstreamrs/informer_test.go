package upstreamrs

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	kcontroller "k8s.io/kubernetes/pkg/controller"
)

// TestIndexerServesCtrlsimCache: upstream's listers and index lookups read
// ctrlsim's informer, in its order, and upstream's own index functions work.
func TestIndexerServesCtrlsimCache(t *testing.T) {
	w := sim.New(1, sim.Limits{})
	defer w.Close()
	api := apiserver.New(w, apiserver.DefaultConfig())
	ctx := controller.NewContext("test", api)
	inf := newInformer(ctx.Informer(apiserver.Pods))
	require.NoError(t, kcontroller.AddPodControllerIndexer(inf))
	var added []string
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(o interface{}) { added = append(added, o.(*corev1.Pod).Name) }})
	require.NoError(t, err)

	ref := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "u1", Controller: new(true)}
	for _, name := range []string{"c", "a", "b"} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "x"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}}}
		if name != "b" {
			pod.OwnerReferences = []metav1.OwnerReference{ref}
		}
		api.Do(&apiserver.Request{Client: "setup", Verb: apiserver.Create, Kind: apiserver.Pods, Namespace: "ns", Object: pod}, func(r *apiserver.Response) { require.NoError(t, r.Err) })
	}
	ctx.Go("sync", func() { inf.inf.WaitForCacheSync() })
	w.RunUntil(1e9)
	require.True(t, inf.HasSynced())
	require.Equal(t, []string{"a", "b", "c"}, added, "handlers see ctrlsim's events (the list, in key order)")

	owned, err := kcontroller.FilterPodsByOwner(inf.GetIndexer(), &metav1.ObjectMeta{Namespace: "ns", Name: "rs", UID: "u1"}, "ReplicaSet", true)
	require.NoError(t, err)
	var names []string
	for _, p := range owned {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"a", "c", "b"}, names, "owned pods, then orphans, in cache order")

	pods, err := corelisters.NewPodLister(inf.GetIndexer()).Pods("ns").List(labels.Everything())
	require.NoError(t, err)
	require.Len(t, pods, 3)
	require.NotEmpty(t, inf.GetStore().LastStoreSyncResourceVersion())
	require.ErrorIs(t, inf.GetStore().Add(&corev1.Pod{}), errReadOnly)
}
