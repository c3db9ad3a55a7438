package podrank

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var now = time.Date(2025, 1, 1, 0, 10, 0, 0, time.UTC)

// pod is a Running pod on node-1, created at created and Ready since ready
// (not ready when ready is zero).
func pod(uid string, created, ready time.Time) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-" + uid, UID: types.UID(uid), CreationTimestamp: metav1.NewTime(created)},
		Spec:       corev1.PodSpec{NodeName: "node-1"},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if !ready.IsZero() {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(ready)}}
	}
	return p
}

func ago(d time.Duration) time.Time { return now.Add(-d) }

func TestLessRules(t *testing.T) {
	old, young := ago(time.Hour), ago(time.Minute)
	base := func(uid string) *corev1.Pod { return pod(uid, old, old) }
	for _, c := range []struct {
		rule   string
		first  *corev1.Pod
		second *corev1.Pod
		ra, rb int
	}{
		{"1 unassigned", func() *corev1.Pod { p := base("a"); p.Spec.NodeName = ""; return p }(), base("b"), 0, 0},
		{"2 pending", func() *corev1.Pod { p := base("a"); p.Status.Phase = corev1.PodPending; return p }(), base("b"), 0, 0},
		{"3 not ready", pod("a", old, time.Time{}), base("b"), 0, 0},
		{"4 lower cost", func() *corev1.Pod {
			p := base("a")
			p.Annotations = map[string]string{DeletionCostAnnotation: "-1"}
			return p
		}(), base("b"), 0, 0},
		{"5 more related pods on the node", base("b"), base("a"), 2, 1},
		{"6 ready more recently", pod("b", old, young), base("a"), 0, 0},
		{"7 more restarts", func() *corev1.Pod {
			p := base("b")
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 1}}
			return p
		}(), base("a"), 0, 0},
		{"8 newer", pod("b", young, old), base("a"), 0, 0},
		{"6 one log2 bucket: the lower uid, though ready longer", pod("a", old, ago(time.Hour+time.Second)), base("b"), 0, 0},
	} {
		assert.True(t, Less(c.first, c.second, c.ra, c.rb, now), "rule %s", c.rule)
		assert.False(t, Less(c.second, c.first, c.rb, c.ra, now), "rule %s, the other way", c.rule)
	}
	// Invalid deletion costs count as 0.
	for _, v := range []string{"+1", "007", "1e3", "2147483648", ""} {
		p := base("a")
		p.Annotations = map[string]string{DeletionCostAnnotation: v}
		assert.Zero(t, DeletionCost(p), v)
	}
}

// Pods the ranking cannot tell apart share a class; pods it can, do not, and
// positions follow Less.
func TestClassesAreTiesAndCircles(t *testing.T) {
	t1, t2 := ago(time.Hour), ago(time.Hour-time.Second) // one log2 bucket
	// a and c are ready at the same time (a tie); b in between by uid: a < b
	// (uids), b < c (uids), and a, c equal: a circle.
	a, b, c := pod("1", t1, t1), pod("2", t1, t2), pod("3", t1, t1)
	// d: ready long before, an older bucket: after all three. e: not ready,
	// before all.
	d, e := pod("4", ago(10*time.Hour), ago(10*time.Hour)), pod("5", t1, time.Time{})
	r := New([]*corev1.Pod{a, b, c, d, e}, []int{0, 0, 0, 0, 0}, now)
	require.True(t, Less(a, b, 0, 0, now) && Less(b, c, 0, 0, now) && !Less(a, c, 0, 0, now) && !Less(c, a, 0, 0, now))
	assert.Equal(t, r.Class[0], r.Class[1])
	assert.Equal(t, r.Class[0], r.Class[2])
	assert.Equal(t, []int{1, 1, 1, 2, 0}, r.Position)
	assert.ElementsMatch(t, []int{1, 2}, r.Ties(0))
	assert.Empty(t, r.Ties(3))
	assert.Equal(t, r.Views[0], r.Views[2], "a tie looks the same")
	assert.NotEqual(t, r.Views[0], r.Views[1])

	// Without the pod of equal time there is no circle: the uid orders a
	// and b.
	r = New([]*corev1.Pod{a, b}, []int{0, 0}, now)
	assert.Equal(t, []int{0, 1}, r.Position)
}

func owned(p *corev1.Pod, owner *appsv1.ReplicaSet, node string, labels map[string]string) *corev1.Pod {
	p.Spec.NodeName, p.Labels = node, labels
	p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(owner, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}
	return p
}

func rs(name, uid string, app string, deployment types.UID) *appsv1.ReplicaSet {
	r := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID(uid)},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}
	if deployment != "" {
		yes := true
		r.OwnerReferences = []metav1.OwnerReference{{Kind: "Deployment", Name: "d", UID: deployment, Controller: &yes}}
	}
	return r
}

// Owner ranks the active pods an owner controls and selects, each with the
// active pods on its node of every owner with the same controller.
func TestOwnerRanks(t *testing.T) {
	old := ago(time.Hour)
	newRS, oldRS := rs("web-new", "rs-new", "new", "dep"), rs("web-old", "rs-old", "old", "dep")
	terminating := owned(pod("t", old, old), oldRS, "node-1", map[string]string{"app": "old"})
	terminating.DeletionTimestamp = &metav1.Time{Time: now}
	pods := []apiserver.Object{
		owned(pod("o1", old, old), oldRS, "node-1", map[string]string{"app": "old"}),
		owned(pod("o2", old, old), oldRS, "node-2", map[string]string{"app": "old"}),
		owned(pod("n1", old, old), newRS, "node-1", map[string]string{"app": "new"}),
		owned(pod("x", old, old), oldRS, "node-2", map[string]string{"app": "relabelled"}), // not selected
		terminating, // not active
	}
	owners := []apiserver.Object{newRS, oldRS}
	r := Owner(oldRS, owners, pods, now)
	require.Len(t, r.Pods, 2)
	assert.Equal(t, []int{2, 1}, r.Ranks, "o1 shares node-1 with the new ReplicaSet's n1")
	i, ok := r.Index("o1")
	assert.True(t, ok)
	assert.Equal(t, 0, i)
	assert.Less(t, r.Position[0], r.Position[1], "the doubled-up pod goes first")

	// A ReplicaSet without a controller has no related pods: every rank 0.
	alone := rs("web", "rs", "old", "")
	for _, p := range pods {
		p.(*corev1.Pod).OwnerReferences[0].UID = "rs"
	}
	r = Owner(alone, []apiserver.Object{alone}, pods, now)
	assert.Equal(t, []int{0, 0}, r.Ranks)
	assert.True(t, Selects(alone, pods[0].(*corev1.Pod)))
	assert.False(t, Selects(alone, pods[3].(*corev1.Pod)))
}
