// Package run plays one scenario under one strategy with one seed and says
// how it went: the verdicts, the metrics, the history and its digest, and the
// decision trace, written to a run directory that replays from its files.
package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/host"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models/hpa"
	"github.com/ctrlsim/ctrlsim/run/bubble"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// Config is one run.
type Config struct {
	Scenario *workloads.Scenario
	Strategy plugin.Strategy
	Seed     uint64
	// MaxEvents bounds the run (default 50 million); past it the verdict is
	// "runaway".
	MaxEvents uint64
	// Interceptor, if set, sees every API request (fault injection).
	Interceptor apiserver.Interceptor
	// Setup, if set, may change the cluster before anything starts (fault
	// injection, tests).
	Setup func(c *cluster.Cluster)
	// SyncWallClock keeps the process's wall clock at the run's virtual time
	// (sim.Limits.SyncWallClock), for strategies that host code reading
	// time.Now. Only inside a testing/synctest bubble; the built-in models
	// give the same digests either way. Set, it says the caller runs Run in
	// a bubble of its own; unset, Run makes one for a strategy with
	// WallClock.
	SyncWallClock bool
}

// Overall verdicts of a run.
const (
	Pass    = "pass"
	Fail    = "fail"
	Unknown = "unknown"
	Runaway = "runaway"
)

// Summary is summary.json: everything a person or a CI job needs to judge a run.
type Summary struct {
	Scenario string `json:"scenario"`
	Strategy string `json:"strategy"`
	Seed     uint64 `json:"seed"`
	Verdict  string `json:"verdict"`
	// Checks in a fixed order; a failing one carries its first violation.
	Checks []check.Result `json:"checks"`
	// ConvergenceLatency is how long after the last step the state converged.
	ConvergenceLatency string `json:"convergenceLatency,omitempty"`
	ConvergenceMillis  *int64 `json:"convergenceMillis,omitempty"`
	// Failures are controllers that panicked or blocked (each one fails the run).
	Failures []sim.Failure          `json:"failures,omitempty"`
	Steps    []workloads.StepResult `json:"steps"`
	// Faults: what became of each fault of the plan (when it started and
	// healed, what it touched).
	Faults      []faults.Record `json:"faults,omitempty"`
	VirtualTime string          `json:"virtualTime"`
	Events      uint64          `json:"events"`
	Requests    map[string]int  `json:"requests"` // by verb
	PodsCreated int             `json:"podsCreated"`
	PodsDeleted int             `json:"podsDeleted"`
	Decisions   int             `json:"decisions"`
	// Replica metrics over the run, and how far the scale-down decisions are
	// from the upstream ranking.
	MaxOvershoot       int           `json:"maxOvershoot"`
	MaxUndershoot      int           `json:"maxUndershoot"`
	BelowDesired       string        `json:"belowDesired"`
	BelowDesiredMillis int64         `json:"belowDesiredMillis"`
	Ordering           OrderingScore `json:"scaleDownOrdering"`
	// Digest is the SHA-256 of history.jsonl: equal digests, equal runs.
	Digest string `json:"digest"`
	Replay string `json:"replay"`
}

// Signature names how a run failed, for shrinking ("the same failure"):
// the first failing check, a controller failure, or a runaway; "" when it
// did not fail.
func (s *Summary) Signature() string {
	switch {
	case s.Verdict == Runaway:
		return "runaway"
	case len(s.Failures) > 0:
		return "controller failure: " + s.Failures[0].Actor
	}
	for _, c := range s.Checks {
		if c.Verdict == check.Fail {
			if c.Check == "steps" {
				// Which step failed: a shrunk scenario whose other steps are
				// gone may fail another one, which is another failure.
				step, _, _ := strings.Cut(c.Message, ": ")
				return "check steps: " + step
			}
			return "check " + c.Check
		}
	}
	return ""
}

// Result is a finished run.
type Result struct {
	Scenario  *workloads.Scenario
	Summary   Summary
	History   []*history.Op
	Decisions *trace.Recorder
	// Replicas are every ReplicaSet's and ReplicationController's desired,
	// current and ready counts over time, by "Kind/namespace/name".
	Replicas map[string][]check.Sample
	lin      check.LinearizabilityResult
}

// Run plays the scenario. An error means the run could not start (an invalid
// cluster description), or, for a strategy with WallClock, that its bubble
// deadlocked or panicked; everything else that goes wrong inside the run is
// in the Summary.
//
// A strategy with WallClock runs inside a testing/synctest bubble with
// SyncWallClock (package bubble), unless the caller set SyncWallClock.
func Run(cfg Config) (*Result, error) {
	if cfg.Strategy.WallClock {
		hosted.Lock()
		defer hosted.Unlock()
		host.SeedGlobalRand(cfg.Seed)
	}
	if !cfg.Strategy.WallClock || cfg.SyncWallClock {
		return runWorld(cfg)
	}
	cfg.SyncWallClock = true
	var res *Result
	var err error
	berr := bubble.Run(nil, func() { res, err = runWorld(cfg) })
	if berr != nil && res != nil && err == nil {
		// The run finished, and then the bubble did not end cleanly: hosted
		// code left goroutines blocked (or one panicked). That is the
		// controller's failure, reported with the run's seed like a panic.
		res.Summary.Failures = append(res.Summary.Failures, sim.Failure{Actor: cfg.Strategy.Name, Kind: "bubble",
			Seed: cfg.Seed, Message: berr.Error()})
		res.Summary.Verdict = Fail
		return res, nil
	}
	if berr != nil {
		return nil, fmt.Errorf("scenario %s, strategy %s, seed %d: %w", cfg.Scenario.Name, cfg.Strategy.Name, cfg.Seed, berr)
	}
	return res, err
}

// hosted serializes the runs of strategies with WallClock in a process:
// hosted code draws from math/rand's global functions (a retry's jittered
// backoff moves when its next request is sent), which the host seeds from
// the run (host.SeedGlobalRand), and runs in one process share them. The
// built-in models draw only from the World's streams and still run in
// parallel; a sweep of hosted strategies gets its parallelism from shards.
var hosted sync.Mutex

func runWorld(cfg Config) (*Result, error) {
	sc := cfg.Scenario
	sc.Defaults()
	objs := append([]apiserver.Object(nil), sc.Objects...)
	for _, st := range sc.Steps {
		objs = append(objs, st.Objects...)
	}
	if kind, name, missing := cfg.Strategy.Missing(objs); missing {
		return nil, fmt.Errorf("scenario %s: %s %q needs a %s controller, and strategy %q does not run one (ctrlsim has no %s model yet)",
			sc.Name, kind, name, kind, cfg.Strategy.Name, kind)
	}
	maxEvents := cfg.MaxEvents
	if maxEvents == 0 {
		maxEvents = 50_000_000
	}
	last := sc.LastDisturbance()
	w := sim.New(cfg.Seed, sim.Limits{MaxTime: last + sc.Expect.ConvergeWithin + sc.Expect.StableFor + time.Minute, MaxEvents: maxEvents,
		SyncWallClock: cfg.SyncWallClock})
	c, err := cluster.New(w, sc.Cluster)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	c.API.Metrics = workloads.LoadMetrics(sc, c.API)
	if cfg.Setup != nil {
		cfg.Setup(c)
	}
	counts := &counter{}
	c.API.OnCommit(counts.observe)
	tr := &trace.Recorder{}
	ctls := cfg.Strategy.Start(c.API, tr)
	replicas := check.ReplicaSets()
	replicas.Clock = w.Elapsed
	// Each kind's "current state matches desired": the ReplicaSet tracker
	// (which also measures), then the other workload kinds'. They hold
	// trivially where the scenario has none of their objects.
	preds := []check.Predicate{replicas, check.Deployments(), check.StatefulSets(), check.DaemonSets(), check.HPAs(hpa.Recommender(c.API, hpa.Options{}))}
	if cfg.Strategy.Predicate != nil {
		preds = append(preds, cfg.Strategy.Predicate()) // the strategy's own desired state
	}
	desired := check.All(preds...)
	conv := check.WatchConvergence(c.API, desired, sc.Expect.ConvergeWithin, sc.Expect.StableFor,
		func() { w.Stop("checks concluded") })
	inv := check.WatchInvariants(c.API)
	if cfg.Strategy.Invariant != nil {
		inv.Add(c.API, cfg.Strategy.Invariant())
	}
	var inj *faults.Injector
	inv.FaultActive = func() bool { return inj != nil && inj.Active() }
	watches := check.ObserveWatches(c.API)
	// The last disturbance: the last step done and the last fault healed.
	quiet := 0
	settle := func() {
		if quiet++; quiet == 2 {
			conv.Begin()
		}
	}
	inj = faults.Start(faults.Env{Cluster: c, Strategy: cfg.Strategy, Controllers: ctls, Trace: tr}, sc.Faults, settle)
	c.API.Interceptor = apiserver.Chain(cfg.Interceptor, inj)
	runner := workloads.Start(sc, c, settle)
	out := w.Run()

	s := Summary{Scenario: sc.Name, Strategy: cfg.Strategy.Name, Seed: cfg.Seed,
		Failures: w.Failures(), Steps: runner.Results, Faults: inj.Records, VirtualTime: out.Now.String(), Events: out.Events,
		Requests: map[string]int{}, PodsCreated: counts.created, PodsDeleted: counts.deleted, Decisions: len(tr.Decisions()),
		Replay: fmt.Sprintf("ctrlsim run --scenario %s --strategy %s --seed %d", sc.Name, cfg.Strategy.Name, cfg.Seed)}
	ops := c.API.History().Ops()
	for _, op := range ops {
		s.Requests[op.Verb]++
	}
	s.Digest = history.Digest(ops)
	lin := check.Linearizability{Marks: c.API.History().Marks()}.Check(ops)
	s.Checks = append(s.Checks, stepsCheck(sc, runner.Results), conv.Result(), inv.Result(), lin.Result, watches.Result())
	m := replicas.Metrics()
	if limit := sc.Expect.MaxOvershoot; limit != nil {
		r := check.Result{Check: "overshoot", Verdict: check.Pass}
		if m.MaxOvershoot > *limit {
			r = check.Result{Check: "overshoot", Verdict: check.Fail,
				Message: fmt.Sprintf("an owner had %d pods beyond spec.replicas after a create; the scenario allows %d", m.MaxOvershoot, *limit)}
		}
		s.Checks = append(s.Checks, r)
	}
	s.MaxOvershoot, s.MaxUndershoot = m.MaxOvershoot, m.MaxUndershoot
	s.BelowDesired, s.BelowDesiredMillis = m.BelowDesired.String(), m.BelowDesired.Milliseconds()
	s.Ordering = orderingScore(tr.Decisions())
	if d, ok := conv.Latency(); ok {
		ms := d.Milliseconds()
		s.ConvergenceLatency, s.ConvergenceMillis = d.String(), &ms
	}
	s.Verdict = verdict(out, s)
	return &Result{Scenario: sc, Summary: s, History: ops, Decisions: tr, Replicas: replicas.Series(), lin: lin}, nil
}

func verdict(out sim.Outcome, s Summary) string {
	if out.Verdict == sim.Runaway {
		return Runaway
	}
	if len(s.Failures) > 0 {
		return Fail
	}
	v := Pass
	for _, r := range s.Checks {
		switch r.Verdict {
		case check.Fail:
			return Fail
		case check.Unknown:
			v = Unknown
		}
	}
	return v
}

// counter keeps the run's pod churn.
type counter struct{ created, deleted int }

func (c *counter) observe(ev apiserver.Event) {
	if _, ok := ev.Object.(*corev1.Pod); !ok {
		return
	}
	switch ev.Type {
	case watch.Added:
		c.created++
	case watch.Deleted:
		c.deleted++
	}
}

// WriteDir writes summary.json, history.jsonl and decisions.jsonl (and, when
// the history is not linearizable, linearizability.html) into dir,
// atomically: they are written to a sibling directory that replaces dir at
// the end, so a run killed halfway leaves no half-written directory.
//
// Extra files (plots) are written alongside, in the same atomic step.
func (r *Result) WriteDir(dir string, extra ...File) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	write := func(name string, fn func(f *os.File) error) error {
		f, err := os.Create(filepath.Join(tmp, name))
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write("summary.json", func(f *os.File) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(r.Summary)
	}); err != nil {
		return err
	}
	if err := write("history.jsonl", func(f *os.File) error { return history.WriteJSONL(f, r.History) }); err != nil {
		return err
	}
	if err := write("decisions.jsonl", func(f *os.File) error { return r.Decisions.WriteJSONL(f) }); err != nil {
		return err
	}
	// The scenario as one file, with its fault plan, strategy and seed: the
	// directory replays from its own files (ctrlsim replay DIR).
	if text, err := r.Scenario.SelfContained(r.Scenario.Faults, r.Summary.Strategy, r.Summary.Seed); err == nil {
		if err := os.WriteFile(filepath.Join(tmp, "scenario.yaml"), text, 0o644); err != nil {
			return err
		}
	}
	for _, f := range extra {
		if err := os.WriteFile(filepath.Join(tmp, f.Name), f.Data, 0o644); err != nil {
			return err
		}
	}
	if r.lin.Verdict == check.Fail {
		// porcupine's interactive view of the object whose history failed.
		if err := r.lin.Visualize(filepath.Join(tmp, "linearizability.html")); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// File is an extra file of a run directory.
type File struct {
	Name string
	Data []byte
}

// SortedRequests lists the request counts in verb order, for printing.
func (s *Summary) SortedRequests() []string {
	verbs := make([]string, 0, len(s.Requests))
	for v := range s.Requests {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	out := make([]string, len(verbs))
	for i, v := range verbs {
		out[i] = fmt.Sprintf("%s=%d", v, s.Requests[v])
	}
	return out
}

// stepsCheck: every step did what it said (succeeded, or failed with the
// error it expected). A step that failed means the scenario did not do what it
// meant to, so the run cannot pass.
func stepsCheck(sc *workloads.Scenario, results []workloads.StepResult) check.Result {
	for _, r := range results {
		if r.Error != "" {
			return check.Result{Check: "steps", Verdict: check.Fail, At: r.At, Message: r.Step + ": " + r.Error}
		}
	}
	if want := len(sc.Steps); len(results) < want {
		return check.Result{Check: "steps", Verdict: check.Unknown, Message: fmt.Sprintf("only %d of %d steps ran before the run ended", len(results), want)}
	}
	return check.Result{Check: "steps", Verdict: check.Pass}
}
