package deployment_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/models/deployment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func i32(n int32) *int32 { return &n }

func intOrStr(s string) *intstr.IntOrString {
	v := intstr.Parse(s)
	return &v
}

func rolling(replicas int32, surge, unavailable string) *appsv1.Deployment {
	return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: i32(replicas), Strategy: appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxSurge: intOrStr(surge), MaxUnavailable: intOrStr(unavailable)}}}}
}

func TestFenceposts(t *testing.T) {
	for _, tc := range []struct {
		surge, unavailable string
		replicas           int32
		surgeN, unavailN   int32 // MaxSurge, MaxUnavailable
	}{
		{"25%", "25%", 10, 3, 2}, // surge rounds up, unavailable down
		{"25%", "25%", 1, 1, 0},
		{"0%", "10%", 5, 0, 1}, // both 0: one may be unavailable
		{"0", "0", 3, 0, 1},
		{"1", "5", 3, 1, 3}, // unavailable at most replicas
		{"1", "1", 0, 1, 0}, // no replicas: none unavailable
	} {
		t.Run(fmt.Sprintf("%s/%s of %d", tc.surge, tc.unavailable, tc.replicas), func(t *testing.T) {
			d := rolling(tc.replicas, tc.surge, tc.unavailable)
			assert.Equal(t, tc.surgeN, deployment.MaxSurge(d))
			assert.Equal(t, tc.unavailN, deployment.MaxUnavailable(d))
		})
	}
	recreate := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: i32(5), Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	assert.Zero(t, deployment.MaxSurge(recreate))
	assert.Zero(t, deployment.MaxUnavailable(recreate))
}

func rs(name string, spec int32, maxReplicas string, age time.Duration) *appsv1.ReplicaSet {
	r := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(1e9, 0).Add(-age)),
		Annotations: map[string]string{}}, Spec: appsv1.ReplicaSetSpec{Replicas: i32(spec)}}
	if maxReplicas != "" {
		r.Annotations[deployment.MaxReplicasAnnotation] = maxReplicas
	}
	return r
}

func TestNewRSReplicas(t *testing.T) {
	d := rolling(10, "3", "2")
	for _, tc := range []struct {
		name      string
		old, newN int32
		want      int32
	}{
		{"room for the surge", 10, 0, 3},
		{"at the ceiling", 10, 3, 3},
		{"some room", 8, 3, 5},
		{"never above replicas", 0, 9, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newRS := rs("new", tc.newN, "", 0)
			got, err := deployment.NewRSReplicas(d, []*appsv1.ReplicaSet{rs("old", tc.old, "", time.Hour), newRS}, newRS)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	recreate := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: i32(4), Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	got, err := deployment.NewRSReplicas(recreate, nil, rs("new", 0, "", 0))
	require.NoError(t, err)
	assert.Equal(t, int32(4), got)
}

func TestProportion(t *testing.T) {
	d := rolling(30, "25%", "25%") // max 38
	for _, tc := range []struct {
		name         string
		rs           *appsv1.ReplicaSet
		toAdd, added int32
		want         int32
	}{
		{"its share: 8 of 13 → round(8×38/13) = 23", rs("a", 8, "13", 0), 25, 0, 15},
		{"capped by what is left", rs("a", 8, "13", 0), 25, 20, 5},
		{"an empty ReplicaSet takes nothing", rs("a", 0, "13", 0), 25, 0, 0},
		{"no annotation: the Deployment's status.replicas", rs("a", 8, "", 0), 25, 0, 0}, // status.replicas 0 → 0
		{"halves round away from zero", rs("a", 3, "76", 0), -37, 0, -1},                 // 3×38/76 = 1.5 → 2
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, deployment.Proportion(tc.rs, d, tc.toAdd, tc.added))
		})
	}
	down := rolling(0, "25%", "25%")
	assert.Equal(t, int32(-5), deployment.Proportion(rs("a", 5, "13", 0), down, -20, 0), "to 0 replicas: all of it")
}

func planOf(targets []deployment.ScaleTarget) []string {
	var out []string
	for _, t := range targets {
		out = append(out, fmt.Sprintf("%s=%d", t.RS.Name, t.Replicas))
	}
	return out
}

func TestScalePlan(t *testing.T) {
	d := rolling(30, "25%", "25%")
	old, cur := rs("old", 8, "13", time.Hour), rs("new", 5, "13", 0)
	assert.Equal(t, []string{"old=23", "new=15"}, planOf(deployment.ScalePlan(d, cur, []*appsv1.ReplicaSet{old}, false)),
		"proportional, largest first")
	assert.Equal(t, []string{"new=30", "old=8"}, planOf(deployment.ScalePlan(d, cur, []*appsv1.ReplicaSet{old}, true)),
		"newest only")

	// Down to 7 (+2 surge = 9) from 23 + 15 (max-replicas 38).
	d7 := rolling(7, "25%", "25%")
	old, cur = rs("old", 23, "38", time.Hour), rs("new", 15, "38", 0)
	assert.Equal(t, []string{"old=5", "new=4"}, planOf(deployment.ScalePlan(d7, cur, []*appsv1.ReplicaSet{old}, false)))
	assert.Equal(t, []string{"new=0", "old=9"}, planOf(deployment.ScalePlan(d7, cur, []*appsv1.ReplicaSet{old}, true)),
		"newest only: the decrease from the newest down")

	// The leftover of the rounding goes to the first (largest).
	d4 := rolling(4, "0", "1") // max 4
	a, b, c := rs("a", 1, "3", 3*time.Hour), rs("b", 1, "3", 2*time.Hour), rs("c", 1, "3", time.Hour)
	assert.Equal(t, []string{"c=2", "b=1", "a=1"}, planOf(deployment.ScalePlan(d4, nil, []*appsv1.ReplicaSet{a, b, c}, false)),
		"equal sizes adding: newest first; round(1×4/3) = 1 each, leftover 1 to the first")

	// One active ReplicaSet takes it all; a saturated new one zeroes the old.
	only := rs("only", 3, "4", 0)
	assert.Equal(t, []string{"only=30"}, planOf(deployment.ScalePlan(d, nil, []*appsv1.ReplicaSet{only, rs("empty", 0, "", time.Hour)}, false)))
	sat := rs("sat", 30, "38", 0)
	sat.Annotations[deployment.DesiredReplicasAnnotation] = "30"
	sat.Status.AvailableReplicas = 30
	assert.Equal(t, []string{"y=0", "x=0"}, planOf(deployment.ScalePlan(d, sat, []*appsv1.ReplicaSet{rs("x", 2, "", 2*time.Hour), rs("y", 1, "", time.Hour)}, false)),
		"newest old first")
	assert.Empty(t, deployment.ScalePlan(d, rs("same", 30, "", 0), nil, false), "nothing to do")
}
