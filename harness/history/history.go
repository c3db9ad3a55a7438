// Package history records every API request of a run as an operation — who
// called, what was asked, what came back, and when — so that checks can judge
// the run afterwards and two runs can be compared byte for byte.
package history

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"time"
)

// Stamp is a point on the run's timeline: the virtual time and a sub-tick
// sequence number. Sequence numbers increase across the whole run, so two
// stamps at the same virtual time are still ordered, and an operation that
// returned before another was called is never mistaken for a concurrent one.
type Stamp struct {
	Time time.Duration `json:"t"`
	Seq  uint64        `json:"seq"`
}

// Op is one API request and its outcome.
type Op struct {
	ID     uint64 `json:"id"`
	Client string `json:"client"`
	Verb   string `json:"verb"`
	Kind   string `json:"kind"`
	// Key is namespace/name (or name for cluster-scoped kinds); empty for a
	// list or watch of a whole kind.
	Key         string `json:"key,omitempty"`
	Subresource string `json:"sub,omitempty"`
	// Preconditions the request carried.
	PreRV  string `json:"preRV,omitempty"`
	PreUID string `json:"preUID,omitempty"`
	// Input values checks care about: the replicas a scale asked for, the
	// propagation policy of a delete, the node of a binding, a label selector.
	Arg string `json:"arg,omitempty"`

	Call   Stamp  `json:"call"`
	Commit *Stamp `json:"commit,omitempty"` // when the server applied or served it
	Return *Stamp `json:"return,omitempty"` // nil: the client never learned the outcome

	// Outcome. Code is the HTTP status (200, 201, 404, 409, 410, 422, …).
	Code int    `json:"code"`
	RV   string `json:"rv,omitempty"` // resourceVersion of the object (or list) returned or written
	UID  string `json:"uid,omitempty"`
	// Result is a short rendering of what was written or read that checks
	// care about (replicas for a scale, "deleted", "terminating", an item count).
	// Injected: a fault injector refused the request before the store saw
	// it (its error is a fault's, not the store's answer).
	Injected bool   `json:"injected,omitempty"`
	Result   string `json:"result,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Mark is a stretch of the timeline worth showing beside the operations: a
// workload step, a fault.
type Mark struct {
	Tag   string `json:"tag,omitempty"` // "step" or "fault"
	What  string `json:"what"`
	Start Stamp  `json:"start"`
	End   Stamp  `json:"end"`
}

// Recorder collects operations in call order and keeps a running digest.
type Recorder struct {
	marks []Mark
	ops   []*Op
	n     uint64
	seq   uint64
	keep  bool
}

// NewRecorder returns a recorder. With keep=false operations are not retained
// after they are complete and digested (for benchmarks at scale), and Ops is empty.
func NewRecorder(keep bool) *Recorder { return &Recorder{keep: keep} }

// Stamp returns the next point on the timeline at virtual time t.
func (r *Recorder) Stamp(t time.Duration) Stamp {
	r.seq++
	return Stamp{Time: t, Seq: r.seq}
}

// Begin records the call of an operation and returns it for completion.
func (r *Recorder) Begin(op *Op, t time.Duration) *Op {
	r.n++
	op.ID = r.n
	op.Call = r.Stamp(t)
	if r.keep {
		r.ops = append(r.ops, op)
	}
	return op
}

// AddMark records a stretch of the timeline (see Mark).
func (r *Recorder) AddMark(m Mark) { r.marks = append(r.marks, m) }

// Marks are the recorded marks in the order they were added.
func (r *Recorder) Marks() []Mark { return r.marks }

// Ops are the recorded operations in call order.
func (r *Recorder) Ops() []*Op { return r.ops }

// Digest is the SHA-256 of the operations as JSON lines (what WriteJSONL writes).
func Digest(ops []*Op) string {
	h := sha256.New()
	writeLines(h, ops)
	return hex.EncodeToString(h.Sum(nil))
}

// WriteJSONL writes one JSON object per line, in call order.
func WriteJSONL(w io.Writer, ops []*Op) error { return writeLines(w, ops) }

func writeLines(w io.Writer, ops []*Op) error {
	enc := json.NewEncoder(w)
	for _, op := range ops {
		if err := enc.Encode(op); err != nil {
			return err
		}
	}
	return nil
}
