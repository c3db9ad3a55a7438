package check

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/ctrlsim/ctrlsim/harness/history"
)

// Linearizability checks the recorded API operations against a sequential
// model of the store: one register per object holding (exists, uid,
// resourceVersion), with resourceVersion and uid preconditions, creates that
// fail when the object exists, deletes that remove it or leave it terminating,
// and reads that must see the latest write. Every operation touches one
// object, so the history is checked object by object (porcupine's
// partitioning). Operations are ordered by their call and return stamps, whose
// sub-tick sequence numbers keep operations at one virtual instant ordered; an
// operation whose response was lost has an open return and the outcome the
// server recorded (ground truth). Lists and watches are not part of this check
// (the watch check covers watches).
type Linearizability struct {
	// StepBudget bounds the model steps porcupine may take per object before
	// the check gives up with Unknown. It counts steps, not seconds, so the
	// verdict does not depend on the machine. Default 2,000,000.
	StepBudget int
	// Timeout is porcupine's wall-clock safety net (default 10 minutes, far
	// beyond what the step budget allows on any machine); hitting it also
	// gives Unknown, with a message that says so.
	Timeout time.Duration
	// Marks (workload steps, faults) are drawn on the timeline of a failure.
	Marks []history.Mark
}

// LinearizabilityResult is the outcome, with what a failure needs to be shown.
type LinearizabilityResult struct {
	Result
	Objects int // partitions checked
	Ops     int
	// For a failure: the object and porcupine's data to draw it.
	Key   string
	info  porcupine.LinearizationInfo
	model porcupine.Model
	marks []history.Mark
}

// regState is the sequential model's state of one object.
type regState struct {
	known  bool // false until the first operation shows it (objects written before recording began)
	exists bool
	uid    string
	rv     uint64
}

// Check judges the history.
func (l Linearizability) Check(ops []*history.Op) LinearizabilityResult {
	budget := l.StepBudget
	if budget <= 0 {
		budget = 2_000_000
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	byKey := map[string][]porcupine.Operation{}
	n := 0
	for _, op := range ops {
		if !checkable(op) {
			continue
		}
		ret := int64(math.MaxInt64)
		if op.Return != nil {
			ret = int64(op.Return.Seq)
		}
		k := op.Kind + " " + op.Key
		byKey[k] = append(byKey[k], porcupine.Operation{Input: op, Call: int64(op.Call.Seq), Output: op, Return: ret})
		n++
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	res := LinearizabilityResult{Result: Result{Check: "linearizability", Verdict: Pass}, Objects: len(keys), Ops: n}
	for _, k := range keys {
		steps := 0
		exhausted := false
		model := registerModel(func() bool {
			steps++
			if steps > budget {
				exhausted = true
			}
			return exhausted
		})
		numberClients(byKey[k])
		verdict, info := porcupine.CheckOperationsVerbose(model, byKey[k], timeout)
		switch {
		case exhausted:
			res.Result = Result{Check: "linearizability", Verdict: Unknown,
				Message: fmt.Sprintf("%s: gave up after %d model steps; the history of this object is too concurrent to decide", k, budget)}
			return res
		case verdict == porcupine.Unknown:
			res.Result = Result{Check: "linearizability", Verdict: Unknown,
				Message: fmt.Sprintf("%s: porcupine's wall-clock safety net (%v) ran out before the step budget: this verdict depends on the machine", k, timeout)}
			return res
		case verdict == porcupine.Illegal:
			first := firstUnexplained(byKey[k], info)
			res.Result = Result{Check: "linearizability", Verdict: Fail, At: first.Call.Time.String(),
				Message: fmt.Sprintf("%s: no order of its operations is legal; first unexplained: %s", k, describe(first))}
			res.Key, res.info, res.model, res.marks = k, info, model, l.Marks
			return res
		}
	}
	return res
}

// checkable: single-object operations whose effect the model knows.
func checkable(op *history.Op) bool {
	if op.Key == "" || op.Commit == nil {
		return false // a list, a watch, or a request that never reached the server
	}
	switch op.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return false
	}
	switch op.Subresource {
	case "", "status", "scale", "binding":
		return true
	}
	return false
}

func registerModel(overBudget func() bool) porcupine.Model {
	return porcupine.Model{
		Init: func() interface{} { return regState{} },
		Step: func(s, in, _ interface{}) (bool, interface{}) {
			if overBudget() {
				return false, s
			}
			return step(s.(regState), in.(*history.Op))
		},
		DescribeOperation: func(in, _ interface{}) string { return describe(in.(*history.Op)) },
		DescribeState: func(s interface{}) string {
			st := s.(regState)
			switch {
			case !st.known:
				return "(not yet seen)"
			case !st.exists:
				return "absent"
			}
			return fmt.Sprintf("uid %.8s rv %d", st.uid, st.rv)
		},
	}
}

// step is the sequential store: may op happen in state s, and what follows?
func step(s regState, op *history.Op) (bool, regState) {
	if op.Injected {
		return true, s // refused by a fault before the store saw it: no effect, whatever the code says
	}
	rv, _ := strconv.ParseUint(op.RV, 10, 64)
	if !s.known {
		// The first sight of an object written before recording began:
		// believe it, then hold everything after to it.
		switch {
		case op.Code == 404:
			return true, regState{known: true}
		case op.Code < 300 && op.Result != "deleted":
			return true, regState{known: true, exists: true, uid: op.UID, rv: rv}
		case op.Code < 300:
			return true, regState{known: true}
		}
		return true, s
	}
	preOK := (op.PreRV == "" || op.PreRV == strconv.FormatUint(s.rv, 10)) && (op.PreUID == "" || op.PreUID == s.uid)
	switch {
	case op.Code == 404:
		return !s.exists, s
	case op.Code == 409:
		if op.Verb == "create" && op.Subresource == "" {
			return s.exists, s // AlreadyExists
		}
		if !s.exists {
			return false, s
		}
		if op.Verb == "patch" || op.Subresource == "binding" {
			return true, s // preconditions inside the body: not modelled
		}
		return !preOK, s
	case op.Code >= 300:
		return true, s // refused for a reason the model does not track (invalid, throttled, injected): no effect
	}
	// Success.
	switch op.Verb {
	case "get":
		return s.exists && rv == s.rv && (op.UID == "" || op.UID == s.uid), s
	case "create":
		if op.Subresource == "binding" {
			return s.exists && rv > s.rv, regState{known: true, exists: true, uid: s.uid, rv: rv}
		}
		return !s.exists, regState{known: true, exists: true, uid: op.UID, rv: rv}
	}
	// update, patch, delete
	if !s.exists || !preOK || rv < s.rv || (op.UID != "" && op.UID != s.uid) {
		return false, s
	}
	if op.Result == "deleted" {
		return true, regState{known: true}
	}
	return true, regState{known: true, exists: true, uid: s.uid, rv: rv}
}

func describe(op *history.Op) string {
	d := fmt.Sprintf("#%d %s %s", op.ID, op.Client, op.Verb)
	if op.Subresource != "" {
		d += "/" + op.Subresource
	}
	if op.PreRV != "" {
		d += " if rv=" + op.PreRV
	}
	d += fmt.Sprintf(" → %d", op.Code)
	if op.RV != "" {
		d += " rv=" + op.RV
	}
	if op.Result != "" {
		d += " " + op.Result
	}
	return d
}

// firstUnexplained is the earliest operation outside the longest legal
// prefix porcupine found.
func firstUnexplained(ops []porcupine.Operation, info porcupine.LinearizationInfo) *history.Op {
	explained := map[int]bool{}
	best := 0
	for _, part := range info.PartialLinearizations() {
		for _, lin := range part {
			if len(lin) > best {
				best = len(lin)
				explained = map[int]bool{}
				for _, i := range lin {
					explained[i] = true
				}
			}
		}
	}
	var first *history.Op
	for i, o := range ops {
		op := o.Input.(*history.Op)
		if !explained[i] && (first == nil || op.Call.Seq < first.Call.Seq) {
			first = op
		}
	}
	if first == nil {
		first = ops[0].Input.(*history.Op)
	}
	return first
}

// Visualize writes porcupine's interactive HTML view of the failing object's
// history to path (after a Fail).
func (r LinearizabilityResult) Visualize(path string) error {
	if r.Verdict != Fail {
		return fmt.Errorf("nothing to draw: the check did not fail")
	}
	info := r.info
	var notes []porcupine.Annotation
	for _, m := range r.marks {
		tag, color := "workload", "#fde9b5"
		if m.Tag == "fault" {
			tag, color = "faults", "#f8c9c4"
		}
		notes = append(notes, porcupine.Annotation{Tag: tag, Start: int64(m.Start.Seq), End: int64(m.End.Seq),
			Description: m.What, Details: fmt.Sprintf("%v – %v", m.Start.Time, m.End.Time), BackgroundColor: color})
	}
	info.AddAnnotations(notes)
	return porcupine.VisualizePath(r.model, info, path)
}

// numberClients gives each client of a partition its own row in porcupine's
// view (ids in client-name order, so the drawing is deterministic).
func numberClients(ops []porcupine.Operation) {
	names := map[string]int{}
	for _, o := range ops {
		names[o.Input.(*history.Op).Client] = 0
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for i, n := range sorted {
		names[n] = i
	}
	for i := range ops {
		ops[i].ClientId = names[ops[i].Input.(*history.Op).Client]
	}
}
