package statefulset

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestParentAndOrdinal(t *testing.T) {
	for _, tc := range []struct {
		name, parent string
		ordinal      int
	}{
		{"web-0", "web", 0},
		{"web-12", "web", 12},
		{"my-web-3", "my-web", 3},
		{"web-01", "web", 1},
		{"web-1-2", "web-1", 2},
		{"web-1-x7k2q", "", -1},
		{"web", "", -1},
		{"web-", "", -1},
		{"-5", "", 5},
		{"web-99999999999", "web", -1}, // beyond int32: a parent, no ordinal
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, ord := parentAndOrdinal(tc.name)
			assert.Equal(t, tc.parent, parent)
			assert.Equal(t, tc.ordinal, ord)
		})
	}
}

func TestIdentify(t *testing.T) {
	set := webSet(3)
	pod := func(name, index string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
		if index != "" {
			p.Labels[appsv1.PodIndexLabel] = index
		}
		return p
	}
	for _, tc := range []struct {
		pod     *corev1.Pod
		guard   bool // upstream
		want    identity
		comment string
	}{
		{pod("web-1", "1"), true, identity{ordinal: 1, member: true}, "a member"},
		{pod("db-1", ""), true, identity{ordinal: 1, member: false}, "another set's name"},
		{pod("web-1-x7k2q", "1"), true, identity{ordinal: -1}, "upstream reads the name only"},
		{pod("web-1-x7k2q", "1"), false, identity{ordinal: 1, member: true, surrogate: true}, "the variant reads the label of a surrogate"},
		{pod("web-1-x7k2q", "2"), false, identity{ordinal: -1}, "a label that disagrees with the name"},
		{pod("web-2", "7"), false, identity{ordinal: 2, member: true}, "a proper name wins"},
	} {
		t.Run(tc.comment, func(t *testing.T) {
			c := &Controller{opts: Options{NoIdentityGuard: !tc.guard}}
			assert.Equal(t, tc.want, c.identify(set, tc.pod))
		})
	}
}

func TestNewVersionedPodRevision(t *testing.T) {
	current, update := webSet(5), webSet(5)
	update.Spec.Template.Spec.Containers[0].Image = "nginx:1.10"
	for _, tc := range []struct {
		name      string
		strategy  appsv1.StatefulSetUpdateStrategy
		currentN  int32
		start     int32
		atCurrent []int // ordinals at the current revision
	}{
		{"rolling, partition 0", appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}}, 5, 0, nil},
		{"rolling, partition 3", appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(3))}}, 5, 0, []int{0, 1, 2}},
		{"rolling, partition 3, ordinals from 10", appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(3))}}, 5, 10, []int{10, 11, 12}},
		{"rolling without parameters: status.currentReplicas", appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}, 2, 0, []int{0, 1}},
		{"OnDelete: always the update revision", appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}, 5, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := current.DeepCopy()
			cur.Spec.UpdateStrategy = tc.strategy
			cur.Status.CurrentReplicas = tc.currentN
			cur.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: tc.start}
			var got []int
			for ord := int(tc.start); ord < int(tc.start)+5; ord++ {
				pod := newVersionedPod(cur, update, "web-cur", "web-upd", ord)
				rev := pod.Labels[appsv1.ControllerRevisionHashLabelKey]
				if rev == "web-cur" {
					got = append(got, ord)
					assert.Equal(t, "nginx:1.9.1", pod.Spec.Containers[0].Image)
				} else {
					assert.Equal(t, "web-upd", rev)
					assert.Equal(t, "nginx:1.10", pod.Spec.Containers[0].Image)
				}
				assert.Equal(t, fmt.Sprintf("web-%d", ord), pod.Name)
			}
			assert.Equal(t, tc.atCurrent, got)
		})
	}
}

func TestRevisions(t *testing.T) {
	a, b := webSet(1), webSet(1)
	b.Spec.Template.Spec.Containers[0].Image = "nginx:1.10"
	ra, err := newRevision(a, 1, new(int32))
	require.NoError(t, err)
	again, err := newRevision(a.DeepCopy(), 7, new(int32))
	require.NoError(t, err)
	rb, err := newRevision(b, 2, new(int32))
	require.NoError(t, err)
	collided, err := newRevision(a, 1, ptr(int32(1)))
	require.NoError(t, err)

	assert.Equal(t, ra.Name, again.Name, "the name depends on the template only")
	assert.True(t, equalRevision(ra, again))
	assert.NotEqual(t, ra.Name, rb.Name)
	assert.False(t, equalRevision(ra, rb))
	assert.NotEqual(t, ra.Name, collided.Name, "a collision count gives another name")
	assert.Regexp(t, `^web-[bcdfghjklmnpqrstvwxz2456789]+$`, ra.Name)
	assert.Equal(t, ra.Name, "web-"+ra.Labels[controllerRevisionHashLabel])
	assert.Equal(t, "nginx", ra.Labels["app"])
	assert.Contains(t, string(ra.Data.Raw), `"$patch":"replace"`)

	restored, err := applyRevision(b, ra)
	require.NoError(t, err)
	assert.Equal(t, a.Spec.Template, restored.Spec.Template, "applying a revision restores its template")
	assert.Equal(t, "nginx:1.10", b.Spec.Template.Spec.Containers[0].Image, "and leaves the set alone")

	revs := []*appsv1.ControllerRevision{
		{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Revision: 2},
		{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Revision: 1},
		{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Revision: 2},
	}
	sortRevisions(revs)
	assert.Equal(t, []string{"b", "a", "c"}, []string{revs[0].Name, revs[1].Name, revs[2].Name})
	assert.Equal(t, int64(3), nextRevision(revs))
	assert.Equal(t, int64(1), nextRevision(nil))
}

func TestHistoryToDelete(t *testing.T) {
	revs := func(names ...string) []*appsv1.ControllerRevision {
		out := make([]*appsv1.ControllerRevision, len(names))
		for i, n := range names {
			out[i] = &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: n}, Revision: int64(i + 1)}
		}
		return out
	}
	podAt := func(rev string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: rev}}}
	}
	for _, tc := range []struct {
		name            string
		limit           *int32
		revs            []string
		pods            []string
		current, update string
		want            []string
	}{
		{"within the limit", ptr(int32(10)), []string{"r1", "r2", "r3"}, nil, "r3", "r3", nil},
		{"oldest first", ptr(int32(1)), []string{"r1", "r2", "r3", "r4"}, nil, "r4", "r4", []string{"r1", "r2"}},
		{"live revisions kept", ptr(int32(0)), []string{"r1", "r2", "r3", "r4"}, []string{"r1"}, "r2", "r4", []string{"r3"}},
		{"default limit 10", nil, []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12"}, nil, "r12", "r12", []string{"r1"}},
		{"negative: keep all", ptr(int32(-1)), []string{"r1", "r2"}, nil, "r2", "r2", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := webSet(1)
			set.Spec.RevisionHistoryLimit = tc.limit
			var pods []*corev1.Pod
			for _, r := range tc.pods {
				pods = append(pods, podAt(r))
			}
			all := revs(tc.revs...)
			find := func(n string) *appsv1.ControllerRevision {
				for _, r := range all {
					if r.Name == n {
						return r
					}
				}
				return nil
			}
			var got []string
			for _, r := range historyToDelete(set, pods, all, find(tc.current), find(tc.update)) {
				got = append(got, r.Name)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// The claim owner references each retention policy wants, for a pod in the
// set's range and for one scaled down.
func TestClaimRetentionPolicy(t *testing.T) {
	set := webSet(2)
	set.UID = "set-uid"
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", UID: "pod-uid"}}
	const scaledDown, kept = 5, 1
	type refs struct{ set, pod bool }
	for _, tc := range []struct {
		scaled, deleted appsv1.PersistentVolumeClaimRetentionPolicyType
		ordinal         int
		want            refs
	}{
		{retain, retain, kept, refs{}},
		{retain, retain, scaledDown, refs{}},
		{retain, del, kept, refs{set: true}},
		{retain, del, scaledDown, refs{set: true}},
		{del, retain, kept, refs{}},
		{del, retain, scaledDown, refs{pod: true}},
		{del, del, kept, refs{set: true}},
		{del, del, scaledDown, refs{pod: true}},
	} {
		t.Run(fmt.Sprintf("scaled=%s deleted=%s ordinal=%d", tc.scaled, tc.deleted, tc.ordinal), func(t *testing.T) {
			s := set.DeepCopy()
			s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenScaled: tc.scaled, WhenDeleted: tc.deleted}
			c := &Controller{}
			// A claim with a foreign non-controller owner, which stays.
			other := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "other"}
			claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{other}}}
			for _, start := range []refs{{}, {set: true}, {pod: true}, {set: true, pod: true}} {
				cl := claim.DeepCopy()
				if start.set {
					cl.OwnerReferences = append(cl.OwnerReferences, *metav1.NewControllerRef(s, appsv1.SchemeGroupVersion.WithKind("StatefulSet")))
				}
				if start.pod {
					cl.OwnerReferences = append(cl.OwnerReferences, *metav1.NewControllerRef(pod, corev1.SchemeGroupVersion.WithKind("Pod")))
				}
				assert.Equal(t, start == tc.want, c.claimOwnerUpToDate(cl, s, pod, tc.ordinal), "up to date from %+v", start)
				setClaimOwners(cl, s, pod, tc.ordinal)
				assert.True(t, c.claimOwnerUpToDate(cl, s, pod, tc.ordinal), "after the update, from %+v", start)
				assert.Equal(t, tc.want, refs{hasOwnerRef(cl, s), hasOwnerRef(cl, pod)})
				assert.Equal(t, other, cl.OwnerReferences[0])
				controllers := 0
				for _, r := range cl.OwnerReferences {
					if r.Controller != nil && *r.Controller {
						controllers++
					}
				}
				assert.LessOrEqual(t, controllers, 1, "at most one controller")
			}
		})
	}
	t.Run("a reference that is not a controller's is rewritten", func(t *testing.T) {
		claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: set.UID}}}}
		s := set.DeepCopy()
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenScaled: retain, WhenDeleted: del}
		assert.False(t, (&Controller{}).claimOwnerUpToDate(claim, s, pod, kept))
	})
	t.Run("a stale reference is left alone", func(t *testing.T) {
		s := set.DeepCopy()
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenScaled: del, WhenDeleted: del}
		claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: types.UID("an-old-set")}}}}
		assert.True(t, (&Controller{}).claimOwnerUpToDate(claim, s, pod, kept))
	})
}

func TestResolveMaxUnavailable(t *testing.T) {
	for _, tc := range []struct {
		v        *intstr.IntOrString
		replicas int
		want     int
	}{
		{nil, 5, 1},
		{ptr(intstr.FromInt32(3)), 5, 3},
		{ptr(intstr.FromString("50%")), 5, 2},
		{ptr(intstr.FromString("10%")), 5, 1},
		{ptr(intstr.FromString("100%")), 4, 4},
	} {
		got, err := resolveMaxUnavailable(tc.v, tc.replicas)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%v of %d", tc.v, tc.replicas)
	}
}

func TestStatus(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC)
	pod := func(rev string, phase corev1.PodPhase, readyFor time.Duration, terminating bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: rev}}}
		p.Status.Phase = phase
		if readyFor >= 0 {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-readyFor))}}
		}
		if terminating {
			p.DeletionTimestamp = &metav1.Time{Time: now}
		}
		return p
	}
	pods := []*corev1.Pod{
		pod("a", corev1.PodRunning, time.Minute, false),
		pod("a", corev1.PodRunning, 5*time.Second, false), // ready, not yet available
		pod("b", corev1.PodPending, -1, false),
		pod("b", corev1.PodRunning, time.Minute, true), // terminating: no revision count
		pod("b", "", -1, false),                        // not created yet
	}
	var s appsv1.StatefulSetStatus
	countStatus(&s, 10, "a", "b", now, pods)
	assert.Equal(t, appsv1.StatefulSetStatus{Replicas: 4, ReadyReplicas: 3, AvailableReplicas: 2, CurrentReplicas: 2, UpdatedReplicas: 1}, s)

	set := webSet(2)
	set.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	done := appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: 2, CurrentReplicas: 0, CurrentRevision: "a", UpdateRevision: "b"}
	completeRollingUpdate(set, &done)
	assert.Equal(t, "b", done.CurrentRevision)
	assert.Equal(t, int32(2), done.CurrentReplicas)
	notDone := appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 1, UpdatedReplicas: 2, CurrentRevision: "a", UpdateRevision: "b"}
	completeRollingUpdate(set, &notDone)
	assert.Equal(t, "a", notDone.CurrentRevision)

	assert.False(t, statusChanged(&appsv1.StatefulSet{Status: done}, done.DeepCopy()))
	bumped := done.DeepCopy()
	bumped.CollisionCount = ptr(int32(3))
	assert.False(t, statusChanged(&appsv1.StatefulSet{Status: done}, bumped), "the collision count alone is not written")
	bumped.ObservedGeneration = 1
	assert.True(t, statusChanged(&appsv1.StatefulSet{Status: done}, bumped))
}

func ptr[T any](v T) *T { return &v }
