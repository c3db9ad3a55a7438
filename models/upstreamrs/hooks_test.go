package upstreamrs

import (
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kcontroller "k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	kclock "k8s.io/utils/clock"
)

func TestSlowStartPlan(t *testing.T) {
	tests := []struct {
		adds int
		want []int // the batch sizes upstream's slowStartBatch makes
	}{
		{1, []int{1}},
		{2, []int{1, 1}},
		{3, []int{1, 2}},
		{10, []int{1, 2, 4, 3}},
		{16, []int{1, 2, 4, 8, 1}},
		{500, []int{1, 2, 4, 8, 16, 32, 64, 128, 245}},
	}
	for _, tt := range tests {
		e := newExpectations(func() time.Time { return time.Time{} })
		require.NoError(t, e.ExpectCreations(logr.Discard(), "ns/rs", tt.adds))
		var got []int
		for n := e.nextCreates("ns/rs"); n > 0; n = e.nextCreates("ns/rs") {
			got = append(got, n)
		}
		require.Equal(t, tt.want, got, "adds=%d", tt.adds)
		require.Zero(t, e.nextCreates("other/rs"), "a key without a plan")
	}
}

func TestDeletePlanIsTakenOnce(t *testing.T) {
	e := newExpectations(func() time.Time { return time.Time{} })
	require.Zero(t, e.takeDeletes("ns/rs"))
	require.NoError(t, e.ExpectDeletions(logr.Discard(), "ns/rs", 3))
	require.Equal(t, 3, e.takeDeletes("ns/rs"))
	require.Zero(t, e.takeDeletes("ns/rs"))
	e.forgetPlan("ns/rs")
	require.Zero(t, e.nextCreates("ns/rs"))
}

func TestExpectationsExpireInVirtualTime(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newExpectations(func() time.Time { return now })
	log := logr.Discard()
	require.True(t, e.SatisfiedExpectations(log, "ns/rs"), "no expectations")
	require.NoError(t, e.ExpectCreations(log, "ns/rs", 2))
	e.CreationObserved(log, "ns/rs")
	require.False(t, e.SatisfiedExpectations(log, "ns/rs"), "one creation still expected")
	now = now.Add(kcontroller.ExpectationsTimeout)
	require.False(t, e.SatisfiedExpectations(log, "ns/rs"), "not older than the timeout yet")
	now = now.Add(time.Nanosecond)
	require.True(t, e.SatisfiedExpectations(log, "ns/rs"), "expired in virtual time")
	require.NoError(t, e.ExpectDeletions(log, "ns/rs", 1))
	require.False(t, e.SatisfiedExpectations(log, "ns/rs"), "new expectations, new timestamp")
	e.DeleteExpectations(log, "ns/rs")
	require.True(t, e.SatisfiedExpectations(log, "ns/rs"))
}

func TestRestampWallClockConditions(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 5, 0, 0, time.UTC)
	earlier := metav1.NewTime(now.Add(-time.Minute))
	rs := &appsv1.ReplicaSet{Status: appsv1.ReplicaSetStatus{Conditions: []appsv1.ReplicaSetCondition{
		{Type: "Kept", LastTransitionTime: earlier},
		{Type: appsv1.ReplicaSetReplicaFailure, LastTransitionTime: metav1.NewTime(now.Add(400 * 24 * time.Hour))},
	}}}
	restamp(rs, now)
	require.Equal(t, earlier, rs.Status.Conditions[0].LastTransitionTime)
	require.Equal(t, metav1.NewTime(now), rs.Status.Conditions[1].LastTransitionTime)
}

func TestFieldAccessChecksUpstreamLayout(t *testing.T) {
	rsc := &replicaset.ReplicaSetController{}
	require.PanicsWithValue(t, "upstreamrs: ReplicaSetController.queue is not a int in this version of k8s.io/kubernetes",
		func() { field[int](rsc, "queue") })
	require.Panics(t, func() { field[int](rsc, "noSuchField") })
	setField[kclock.PassiveClock](rsc, "clock", clock{now: func() time.Time { return time.Unix(42, 0) }})
	require.Equal(t, time.Unix(42, 0), getField[kclock.PassiveClock](rsc, "clock").Now())
}
