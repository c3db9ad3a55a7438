package deployment

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReplicaSetName(t *testing.T) {
	assert.Equal(t, "web-5d4f8", replicaSetName("web", "5d4f8"))
	long := strings.Repeat("a", 260)
	name := replicaSetName(long, "5d4f8")
	assert.Len(t, name, 253)
	assert.True(t, strings.HasSuffix(name, "a-5d4f8"), "the Deployment's name is cut, never the hash")
}

func TestAppendRevisionHistory(t *testing.T) {
	assert.Equal(t, "1", appendRevisionHistory("", "1"))
	assert.Equal(t, "1,3", appendRevisionHistory("1", "3"))
	// Past the limit the oldest entries go.
	var entries []string
	for len(strings.Join(entries, ",")) < revisionHistoryMaxChars-5 {
		entries = append(entries, "1234")
	}
	full := strings.Join(entries, ",")
	got := appendRevisionHistory(full, "99999")
	assert.LessOrEqual(t, len(got), revisionHistoryMaxChars)
	assert.True(t, strings.HasSuffix(got, ",1234,99999"))
	assert.Less(t, strings.Count(got, ","), strings.Count(full, ",")+1)
}

func deploymentWith(annotations map[string]string) *appsv1.Deployment {
	n := int32(4)
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Annotations: annotations},
		Spec: appsv1.DeploymentSpec{Replicas: &n, Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
}

func TestSetNewRSAnnotations(t *testing.T) {
	d := deploymentWith(map[string]string{"kubernetes.io/change-cause": "v2", RevisionAnnotation: "7",
		lastAppliedConfigurations: "{}"})
	t.Run("a new ReplicaSet", func(t *testing.T) {
		rs := &appsv1.ReplicaSet{}
		assert.True(t, setNewRSAnnotations(d, rs, "3", false))
		assert.Equal(t, map[string]string{"kubernetes.io/change-cause": "v2", RevisionAnnotation: "3",
			DesiredReplicasAnnotation: "4", MaxReplicasAnnotation: "4"}, rs.Annotations,
			"the Deployment's own annotations but the skipped ones; the revision given; replica annotations")
	})
	t.Run("rolled back to", func(t *testing.T) {
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{RevisionAnnotation: "1",
			"kubernetes.io/change-cause": "v2", DesiredReplicasAnnotation: "9"}}}
		assert.True(t, setNewRSAnnotations(d, rs, "3", true))
		assert.Equal(t, "3", rs.Annotations[RevisionAnnotation])
		assert.Equal(t, "1", rs.Annotations[RevisionHistoryAnnotation])
		assert.Equal(t, "9", rs.Annotations[DesiredReplicasAnnotation], "an existing ReplicaSet's replica annotations are the scaling's business")
	})
	t.Run("up to date", func(t *testing.T) {
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{RevisionAnnotation: "3",
			"kubernetes.io/change-cause": "v2"}}}
		assert.False(t, setNewRSAnnotations(d, rs, "3", true))
		assert.False(t, setNewRSAnnotations(d, rs, "2", true), "a revision is never lowered")
	})
	t.Run("a revision that is not a number is left alone", func(t *testing.T) {
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{RevisionAnnotation: "x"}}}
		assert.False(t, setNewRSAnnotations(d, rs, "3", true))
		assert.Equal(t, "x", rs.Annotations[RevisionAnnotation])
	})
}

func rsRev(name, revision string, age time.Duration) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{RevisionAnnotation: revision},
		CreationTimestamp: metav1.NewTime(time.Unix(1e9, 0).Add(-age))}}
}

func TestRevisions(t *testing.T) {
	rss := []*appsv1.ReplicaSet{rsRev("a", "3", time.Hour), rsRev("b", "10", 2*time.Hour), rsRev("c", "x", 0), rsRev("d", "7", 0)}
	assert.Equal(t, int64(10), maxRevision(rss))
	assert.Equal(t, int64(7), lastRevision(append(rss, nil)))
	assert.True(t, byRevision(rss[0], rss[1]), "3 before 10, whatever the age")
	assert.True(t, byRevision(rss[1], rss[2]), "an unparsable revision: by age")
	assert.False(t, byRevision(rss[2], rss[1]))
}

func TestSetCondition(t *testing.T) {
	t0, t1 := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	s := appsv1.DeploymentStatus{}
	setCondition(&s, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: "True", Reason: ReasonNewReplicaSet, LastUpdateTime: t0, LastTransitionTime: t0})
	setCondition(&s, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: "True", Reason: ReasonNewReplicaSet, LastUpdateTime: t1, LastTransitionTime: t1})
	assert.Equal(t, t0, s.Conditions[0].LastUpdateTime, "same status and reason: kept as it was")
	setCondition(&s, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: "True", Reason: ReasonNewRSAvailable, LastUpdateTime: t1, LastTransitionTime: t1})
	assert.Equal(t, [2]metav1.Time{t1, t0}, [2]metav1.Time{s.Conditions[0].LastUpdateTime, s.Conditions[0].LastTransitionTime},
		"a new reason, same status: the transition time stays")
	setCondition(&s, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: "False", Reason: ReasonTimedOut, LastUpdateTime: t1, LastTransitionTime: t1})
	assert.Equal(t, t1, s.Conditions[0].LastTransitionTime)
	assert.Len(t, s.Conditions, 1)
}

func TestStatusFromReplicaSets(t *testing.T) {
	n := func(v int32) *int32 { return &v }
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 4}, Spec: appsv1.DeploymentSpec{Replicas: n(3)}}
	oldRS := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: n(1)}, Status: appsv1.ReplicaSetStatus{
		Replicas: 2, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 3, TerminatingReplicas: n(1)}}
	newRS := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: n(3)}, Status: appsv1.ReplicaSetStatus{
		Replicas: 3, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 1, TerminatingReplicas: n(0)}}
	s := calculateStatus([]*appsv1.ReplicaSet{oldRS, newRS}, newRS, d)
	assert.Equal(t, appsv1.DeploymentStatus{ObservedGeneration: 4, Replicas: 5, UpdatedReplicas: 3, ReadyReplicas: 3,
		AvailableReplicas: 2, UnavailableReplicas: 2, TerminatingReplicas: n(1)}, s)
	unsynced := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: n(0)}}
	assert.Equal(t, n(1), calculateStatus([]*appsv1.ReplicaSet{oldRS, unsynced, nil}, nil, d).TerminatingReplicas,
		"a ReplicaSet its controller has not synced yet does not count")
	mute := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: n(0)}, Status: appsv1.ReplicaSetStatus{ObservedGeneration: 1}}
	assert.Nil(t, calculateStatus([]*appsv1.ReplicaSet{oldRS, mute}, nil, d).TerminatingReplicas, "one that does not report: unknown")
	assert.Zero(t, calculateStatus([]*appsv1.ReplicaSet{oldRS}, nil, d).UpdatedReplicas, "no new ReplicaSet")
}
