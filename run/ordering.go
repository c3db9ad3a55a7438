package run

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
	corev1 "k8s.io/api/core/v1"
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
			pods[i], ranks[i] = c.Pod(), c.Rank
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
