package run

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// OrderingScore measures how far a run's scale-down decisions are from the
// upstream ranking: the share of chosen pods that upstream, given the same
// candidates and the same Now, would have spared. 0 is upstream's choice;
// with no decisions it is 0 and Decisions says so.
type OrderingScore struct {
	Decisions int     `json:"decisions"`
	Chosen    int     `json:"chosen"`
	Spared    int     `json:"sparedByUpstream"` // chosen pods upstream would have kept
	Share     float64 `json:"share"`
}

func orderingScore(decisions []trace.Decision) OrderingScore {
	var s OrderingScore
	for _, d := range decisions {
		// Only ReplicaSet and ReplicationController scale-downs rank their
		// pods; a StatefulSet's or DaemonSet's decisions follow other rules.
		if !strings.HasPrefix(d.Owner, "ReplicaSet/") && !strings.HasPrefix(d.Owner, "ReplicationController/") {
			continue
		}
		now, err := time.Parse(time.RFC3339Nano, d.Now)
		if err != nil {
			continue
		}
		pods := make([]*corev1.Pod, len(d.Candidates))
		ranks := make([]int, len(d.Candidates))
		for i, c := range d.Candidates {
			pods[i], ranks[i] = candidatePod(c), c.Rank
		}
		// The upstream ranking does not draw random numbers.
		want := map[string]bool{}
		for _, p := range replicaset.PodsToDelete(replicaset.Upstream, pods, ranks, len(d.Chosen), now, rand.New(rand.NewPCG(0, 0))) {
			want[p.Name] = true
		}
		s.Decisions++
		for _, name := range d.Chosen {
			s.Chosen++
			if !want[name] {
				s.Spared++
			}
		}
	}
	if s.Chosen > 0 {
		s.Share = float64(s.Spared) / float64(s.Chosen)
	}
	return s
}

// candidatePod rebuilds what the ranking reads of a pod from its trace entry.
func candidatePod(c trace.Candidate) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: c.Name, UID: types.UID(c.UID)}}
	p.Spec.NodeName = c.Node
	p.Status.Phase = corev1.PodPhase(c.Phase)
	if t, err := time.Parse(time.RFC3339Nano, c.Created); err == nil {
		p.CreationTimestamp = metav1.NewTime(t)
	}
	if c.DeletionCost != 0 {
		p.Annotations = map[string]string{replicaset.DeletionCostAnnotation: strconv.Itoa(c.DeletionCost)}
	}
	if c.Restarts > 0 {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: int32(c.Restarts)}}
	}
	ready := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse}
	if c.Ready {
		ready.Status = corev1.ConditionTrue
		if c.ReadySince != nil {
			if t, err := time.Parse(time.RFC3339Nano, *c.ReadySince); err == nil {
				ready.LastTransitionTime = metav1.NewTime(t)
			}
		}
	}
	p.Status.Conditions = []corev1.PodCondition{ready}
	return p
}
