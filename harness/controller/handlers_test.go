package controller

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ownersFixture is a synced ReplicaSet cache with a (app=a), b (app=b) and
// notx (selecting pods without the label x, so unlabelled ones too), and a
// queue to drain.
type ownersFixture struct {
	ctx   *Context
	queue *Queue[string]
	rs    map[string]*appsv1.ReplicaSet
	inf   *Informer
}

func newOwnersFixture(t *testing.T) *ownersFixture {
	w, api := testServer(0, 0)
	selectors := map[string]*metav1.LabelSelector{
		"a":    {MatchLabels: map[string]string{"app": "a"}},
		"b":    {MatchLabels: map[string]string{"app": "b"}},
		"notx": {MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: metav1.LabelSelectorOpDoesNotExist}}},
	}
	for _, name := range []string{"a", "b", "notx"} {
		tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}}}
		if name == "notx" {
			tmpl.Labels = map[string]string{"app": "y"}
		}
		resp := api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       appsv1.ReplicaSetSpec{Selector: selectors[name], Template: tmpl}}})
		require.NoError(t, resp.Err, name)
	}
	ctx := NewContext("ctl", api)
	f := &ownersFixture{ctx: ctx, queue: NewQueue[string](w, "q", nil), rs: map[string]*appsv1.ReplicaSet{},
		inf: ctx.Informer(apiserver.ReplicaSets)}
	ctx.Go("sync", f.inf.WaitForCacheSync)
	w.Run()
	for _, o := range f.inf.List("default", nil) {
		f.rs[o.GetName()] = o.(*appsv1.ReplicaSet)
	}
	require.Len(t, f.rs, 3)
	return f
}

// drain returns the queued keys in order.
func (f *ownersFixture) drain() []string {
	var keys []string
	f.ctx.Go("drain", func() {
		for f.queue.Len() > 0 {
			k, _ := f.queue.Get()
			keys = append(keys, k)
			f.queue.Done(k)
		}
	})
	f.ctx.World().Run()
	return keys
}

func (f *ownersFixture) pod(rv string, owner string, lbls map[string]string, terminating bool) *corev1.Pod {
	p := pod("p", lbls)
	p.ResourceVersion = rv
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(f.rs[owner], appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}
	}
	if terminating {
		p.DeletionTimestamp = &metav1.Time{}
	}
	return p
}

func TestDependentHandler(t *testing.T) {
	a, b := map[string]string{"app": "a"}, map[string]string{"app": "b"}
	tests := []struct {
		name        string
		terminating Terminating
		skip        bool // SkipUnlabelled
		event       func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet])
		keys, hooks []string
	}{
		{name: "add owned", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Add(f.pod("1", "a", a, false))
		}, keys: []string{"default/a"}, hooks: []string{"added a"}},
		{name: "add orphan: every owner selecting it", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Add(f.pod("1", "", a, false))
		}, keys: []string{"default/a", "default/notx"}},
		{name: "add unlabelled orphan", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Add(f.pod("1", "", nil, false))
		}, keys: []string{"default/notx"}},
		{name: "add unlabelled orphan, SkipUnlabelled", skip: true, event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Add(f.pod("1", "", nil, false))
		}},
		{name: "add terminating: a delete", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Add(f.pod("1", "a", a, true))
		}, keys: []string{"default/a"}, hooks: []string{"deleted a"}},
		{name: "add owned by a replaced owner (another uid)", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			p := f.pod("1", "a", a, false)
			p.OwnerReferences[0].UID = "gone"
			h.Add(p)
		}},
		{name: "resync: same resourceVersion", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Update(f.pod("1", "a", a, false), f.pod("1", "b", b, false))
		}},
		{name: "controller changed: old and new owner", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Update(f.pod("1", "a", a, false), f.pod("2", "b", b, false))
		}, keys: []string{"default/a", "default/b"}, hooks: []string{"updated b"}},
		{name: "released: old owner and the owners selecting it", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Update(f.pod("1", "a", a, false), f.pod("2", "", b, false))
		}, keys: []string{"default/a", "default/b", "default/notx"}},
		{name: "orphan unchanged but for its status", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Update(f.pod("1", "", a, false), f.pod("2", "", a, false))
		}},
		{name: "terminating as update", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Update(f.pod("1", "a", a, false), f.pod("2", "a", b, true))
		}, keys: []string{"default/a"}, hooks: []string{"updated a"}},
		{name: "terminating as delete", terminating: TerminatingAsDelete, event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Update(f.pod("1", "a", a, false), f.pod("2", "a", b, true))
		}, keys: []string{"default/a"}, hooks: []string{"deleted a"}},
		{name: "terminating as delete of both, labels changed", terminating: TerminatingAsDeleteOfBoth, event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Update(f.pod("1", "a", a, false), f.pod("2", "a", b, true))
		}, keys: []string{"default/a"}, hooks: []string{"deleted a", "deleted a"}},
		{name: "terminating as delete of both, labels unchanged", terminating: TerminatingAsDeleteOfBoth, event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Update(f.pod("1", "a", a, false), f.pod("2", "a", a, true))
		}, keys: []string{"default/a"}, hooks: []string{"deleted a"}},
		{name: "delete owned", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Delete(f.pod("1", "a", a, false))
		}, keys: []string{"default/a"}, hooks: []string{"deleted a"}},
		{name: "delete orphan", event: func(f *ownersFixture, h *DependentHandler[*appsv1.ReplicaSet]) {
			h.Delete(f.pod("1", "", a, false))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOwnersFixture(t)
			var hooks []string
			h := &DependentHandler[*appsv1.ReplicaSet]{
				Owners: &Owners[*appsv1.ReplicaSet]{Kind: apiserver.ReplicaSets, Informer: f.inf, SkipUnlabelled: tt.skip,
					Selector: func(rs *appsv1.ReplicaSet) *metav1.LabelSelector { return rs.Spec.Selector }},
				Queue: f.queue, Terminating: tt.terminating,
				Added:   func(rs *appsv1.ReplicaSet, _ apiserver.Object) { hooks = append(hooks, "added "+rs.Name) },
				Deleted: func(rs *appsv1.ReplicaSet, _ apiserver.Object) { hooks = append(hooks, "deleted "+rs.Name) },
				Updated: func(rs *appsv1.ReplicaSet, _, _ apiserver.Object) { hooks = append(hooks, "updated "+rs.Name) },
			}
			tt.event(f, h)
			assert.Equal(t, tt.hooks, hooks, "hooks")
			assert.Equal(t, tt.keys, f.drain(), "enqueued")
		})
	}
}

func TestOwnerHandler(t *testing.T) {
	f := newOwnersFixture(t)
	var forgot []string
	h := OwnerHandler(f.queue, func(key string, uid types.UID) { forgot = append(forgot, key+" "+string(uid)) })
	a := f.rs["a"]
	replaced := a.DeepCopy()
	replaced.UID = "new"
	h.OnAdd(a)
	h.OnUpdate(a, a)
	h.OnUpdate(a, replaced)
	h.OnDelete(replaced)
	assert.Equal(t, []string{"default/a " + string(a.UID), "default/a new"}, forgot)
	assert.Equal(t, []string{"default/a"}, f.drain())
}
