// Package trace records the decisions controllers make, so that reports and
// outside tools can judge them: every scale-down writes one Decision, one JSON
// line of decisions.jsonl. The field names are a published format: keep them.
package trace

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Candidate is one pod a controller ranked for deletion.
type Candidate struct {
	Name         string  `json:"name"`
	UID          string  `json:"uid"`
	Node         string  `json:"node"`
	Phase        string  `json:"phase"`
	Ready        bool    `json:"ready"`
	ReadySince   *string `json:"readySince"` // RFC3339Nano, or null when not ready
	Created      string  `json:"created"`
	Restarts     int     `json:"restarts"`
	DeletionCost int     `json:"deletionCost"`
	Rank         int     `json:"rank"` // active related pods on the same node
}

// CandidateOf is what the trace keeps of a pod a scale-down considers (the
// ranking that reads them adds DeletionCost and Rank).
func CandidateOf(pod *corev1.Pod) Candidate {
	c := Candidate{Name: pod.Name, UID: string(pod.UID), Node: pod.Spec.NodeName, Phase: string(pod.Status.Phase),
		Ready: kube.IsPodReady(pod), Created: pod.CreationTimestamp.Format(time.RFC3339Nano), Restarts: kube.MaxContainerRestarts(pod)}
	if c.Ready {
		s := kube.PodReadySince(pod).Format(time.RFC3339Nano)
		c.ReadySince = &s
	}
	return c
}

// Pod rebuilds what a scale-down ranking reads of a pod from its trace
// entry, so that another ranking can be asked about the same candidates.
func (c Candidate) Pod() *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: c.Name, UID: types.UID(c.UID)}}
	p.Spec.NodeName = c.Node
	p.Status.Phase = corev1.PodPhase(c.Phase)
	if t, err := time.Parse(time.RFC3339Nano, c.Created); err == nil {
		p.CreationTimestamp = metav1.NewTime(t)
	}
	if c.DeletionCost != 0 {
		p.Annotations = map[string]string{corev1.PodDeletionCost: strconv.Itoa(c.DeletionCost)}
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

// Decision is one scale-down decision.
type Decision struct {
	Time               string      `json:"time"` // RFC3339Nano object time of the decision
	Controller         string      `json:"controller"`
	Owner              string      `json:"owner"` // Kind/namespace/name
	OwnerHasController bool        `json:"ownerHasController"`
	Now                string      `json:"now"` // the Now used for ranking
	Diff               int         `json:"diff"`
	Candidates         []Candidate `json:"candidates"` // in the order the controller considered them
	Chosen             []string    `json:"chosen"`
}

// Recorder collects decisions in the order they are made.
type Recorder struct {
	decisions []Decision
}

// Record appends a decision.
func (r *Recorder) Record(d Decision) {
	if r != nil {
		r.decisions = append(r.decisions, d)
	}
}

// Decisions returns what was recorded.
func (r *Recorder) Decisions() []Decision {
	if r == nil {
		return nil
	}
	return r.decisions
}

// WriteJSONL writes one decision per line.
func (r *Recorder) WriteJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, d := range r.Decisions() {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return nil
}
