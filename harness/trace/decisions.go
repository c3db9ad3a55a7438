// Package trace records the decisions controllers make, so that reports and
// outside tools can judge them: every scale-down writes one Decision, one JSON
// line of decisions.jsonl. The field names are a published format: keep them.
package trace

import (
	"encoding/json"
	"io"
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
