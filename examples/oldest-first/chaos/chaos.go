// Package chaos runs a chaos sweep from ctrlsim's library packages, the way
// `ctrlsim chaos` does: every scenario × strategy × seed, each seed with its
// own random fault plan (faults.Random over the scenario's FaultScope), the
// runs in parallel; then a comparison of the strategies (reports.Compare),
// one JSON line per run, and a run directory for every run that did not pass.
//
// Nothing it writes depends on Jobs or on the machine: the same Config gives
// the same files, byte for byte.
package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/reports"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// Config is one sweep.
type Config struct {
	Scenarios  []string // catalog scenarios (workloads.Lookup)
	Strategies []plugin.Strategy
	Seeds      []uint64
	// Jobs is how many runs go at once (default 1). The results do not
	// depend on it.
	Jobs int
	// Calm runs the scenarios as written, without random fault plans.
	Calm bool
	// MaxEvents bounds each run (default 2,000,000, as ctrlsim chaos): past
	// it the run is a runaway, a failure, and one seed cannot stall a sweep.
	MaxEvents uint64
	// Replay, if set, is the command that replays one run, for the report
	// (default: this example's cmd/sweep).
	Replay func(scenario, strategy string, seed uint64) string
}

// Outcome is one run of a sweep: a line of results.jsonl.
type Outcome struct {
	Scenario string   `json:"scenario"`
	Strategy string   `json:"strategy"`
	Seed     uint64   `json:"seed"`
	Faults   []string `json:"faults"`
	Verdict  string   `json:"verdict"`
	// Failure is the first failing check (or controller failure), as
	// run.Summary.Signature; Message its first violation.
	Failure           string `json:"failure,omitempty"`
	Message           string `json:"message,omitempty"`
	ConvergenceMillis *int64 `json:"convergenceMillis,omitempty"`
	MaxOvershoot      int    `json:"maxOvershoot"`
	Digest            string `json:"digest"`
	Replay            string `json:"replay"`
	// Dir is the run directory of a run that did not pass, relative to the
	// sweep's directory.
	Dir string `json:"dir,omitempty"`

	Summary run.Summary `json:"-"`
	result  *run.Result
}

// Result is a finished sweep, its outcomes in sweep order (scenario, then
// strategy, then seed).
type Result struct {
	Config   Config
	Outcomes []Outcome
}

// Scenario is a catalog scenario with the random fault plan of seed added
// (unless calm): exactly what a sweep runs for that seed.
func Scenario(name string, seed uint64, calm bool) (*workloads.Scenario, error) {
	sc, err := workloads.Lookup(name)
	if err != nil {
		return nil, err
	}
	if !calm {
		sc.Faults = append(sc.Faults, faults.Random(seed, sc.FaultScope())...)
	}
	return sc, nil
}

// DefaultReplay is the command of cmd/sweep that replays one run.
func DefaultReplay(calm bool) func(scenario, strategy string, seed uint64) string {
	return func(scenario, strategy string, seed uint64) string {
		cmd := fmt.Sprintf("go run ./cmd/sweep -replay -scenario %s -strategy %s -seed %d", scenario, strategy, seed)
		if calm {
			cmd += " -calm"
		}
		return cmd
	}
}

// Run runs the sweep. An error means a run could not start (an unknown
// scenario, or a strategy that cannot run it); what goes wrong inside a run is
// in its Outcome.
func Run(cfg Config) (*Result, error) {
	if cfg.Jobs < 1 {
		cfg.Jobs = 1
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = 2_000_000
	}
	if cfg.Replay == nil {
		cfg.Replay = DefaultReplay(cfg.Calm)
	}
	type job struct {
		scenario string
		strategy plugin.Strategy
		seed     uint64
	}
	var jobs []job
	for _, sc := range cfg.Scenarios {
		for _, st := range cfg.Strategies {
			for _, seed := range cfg.Seeds {
				jobs = append(jobs, job{sc, st, seed})
			}
		}
	}
	out := make([]Outcome, len(jobs))
	errs := make([]error, len(jobs))
	// The runs are independent simulations, each driven by its own
	// goroutine: parallelism here is outside the simulated world and cannot
	// reach a result. Each result goes to its own slot.
	next := make(chan int)
	var wg sync.WaitGroup
	for range cfg.Jobs {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = runOne(cfg, jobs[i].scenario, jobs[i].strategy, jobs[i].seed)
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s/%s seed %d: %w", jobs[i].scenario, jobs[i].strategy.Name, jobs[i].seed, err)
		}
	}
	return &Result{Config: cfg, Outcomes: out}, nil
}

func runOne(cfg Config, scenario string, st plugin.Strategy, seed uint64) (Outcome, error) {
	sc, err := Scenario(scenario, seed, cfg.Calm)
	if err != nil {
		return Outcome{}, err
	}
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: seed, MaxEvents: cfg.MaxEvents})
	if err != nil {
		return Outcome{}, err
	}
	s := res.Summary
	o := Outcome{Scenario: scenario, Strategy: st.Name, Seed: seed, Faults: []string{}, Verdict: s.Verdict,
		ConvergenceMillis: s.ConvergenceMillis, MaxOvershoot: s.MaxOvershoot, Digest: s.Digest,
		Replay: cfg.Replay(scenario, st.Name, seed), Summary: s}
	for _, f := range sc.Faults {
		o.Faults = append(o.Faults, f.String())
	}
	if s.Verdict == run.Pass {
		return o, nil
	}
	o.Failure = s.Signature()
	for _, c := range s.Checks {
		if c.Verdict != "pass" {
			o.Message = c.Message
			break
		}
	}
	if len(s.Failures) > 0 {
		o.Message = s.Failures[0].Error()
	}
	o.Dir = path.Join("failures", reports.PathName(scenario), reports.PathName(st.Name), "seed-"+strconv.FormatUint(seed, 10))
	o.result = res
	return o, nil
}

// Comparison aggregates the sweep per scenario and strategy.
func (r *Result) Comparison() *reports.Comparison {
	names := make([]string, len(r.Config.Strategies))
	for i, st := range r.Config.Strategies {
		names[i] = st.Name
	}
	summaries := make([]run.Summary, len(r.Outcomes))
	for i, o := range r.Outcomes {
		summaries[i] = o.Summary
	}
	return reports.Compare(names, r.Config.Scenarios, r.Config.Seeds, summaries)
}

// Counts are the runs that failed and those that could not conclude.
func (r *Result) Counts() (failed, unknown int) {
	for _, o := range r.Outcomes {
		switch o.Verdict {
		case run.Pass:
		case run.Unknown:
			unknown++
		default:
			failed++
		}
	}
	return failed, unknown
}

// Write writes report.md (the comparison and the runs that did not pass),
// report.json (the comparison), results.jsonl (one line per run) and, for
// each run that did not pass, its run directory under failures/ (summary,
// history, decisions and its scenario.yaml with the fault plan). A previous
// sweep's failures/ in dir is removed first.
func (r *Result) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(dir, "failures")); err != nil {
		return err
	}
	cmp := r.Comparison()
	// reports names ctrlsim's commands and directories for the runs that
	// did not pass; ctrlsim knows neither our strategy nor the random plan,
	// so the report names ours.
	byRun := map[string]Outcome{}
	for _, o := range r.Outcomes {
		byRun[fmt.Sprint(o.Scenario, "\x00", o.Strategy, "\x00", o.Seed)] = o
	}
	for i, f := range cmp.Failing {
		if o, ok := byRun[fmt.Sprint(f.Scenario, "\x00", f.Strategy, "\x00", f.Seed)]; ok {
			cmp.Failing[i].Replay, cmp.Failing[i].Dir = o.Replay, o.Dir
			if f.Linearizability != "" {
				cmp.Failing[i].Linearizability = o.Dir + "/linearizability.html"
			}
		}
	}
	var md strings.Builder
	if err := r.writeMarkdown(&md, cmp); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(cmp, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	var lines strings.Builder
	enc := json.NewEncoder(&lines)
	for _, o := range r.Outcomes {
		if err := enc.Encode(o); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "results.jsonl"), []byte(lines.String()), 0o644); err != nil {
		return err
	}
	for _, o := range r.Outcomes {
		if o.result == nil {
			continue
		}
		o.result.Summary.Replay = o.Replay
		if err := o.result.WriteDir(filepath.Join(dir, o.Dir)); err != nil {
			return err
		}
	}
	return nil
}

func (r *Result) writeMarkdown(b *strings.Builder, cmp *reports.Comparison) error {
	cfg := r.Config
	failed, unknown := r.Counts()
	plans := "each seed with its own random fault plan (faults.Random)"
	if cfg.Calm {
		plans = "the scenarios as written (no random faults)"
	}
	fmt.Fprintf(b, "# Chaos sweep: %s\n\n", strings.Join(cmp.Strategies, " vs "))
	fmt.Fprintf(b, "%d scenarios × %d strategies × seeds %s, %s: %d runs, %d failed, %d unknown.\n\n",
		len(cfg.Scenarios), len(cfg.Strategies), seedRange(cfg.Seeds), plans, len(r.Outcomes), failed, unknown)
	for _, st := range cfg.Strategies {
		fmt.Fprintf(b, "- `%s`: %s\n", st.Name, oneLine(st.Summary))
	}
	b.WriteString("\n")
	return cmp.WriteMarkdown(b)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// seedRange writes consecutive seeds as FROM–TO.
func seedRange(seeds []uint64) string {
	if len(seeds) == 0 {
		return "none"
	}
	consecutive := true
	for i := 1; i < len(seeds); i++ {
		consecutive = consecutive && seeds[i] == seeds[i-1]+1
	}
	if consecutive && len(seeds) > 1 {
		return fmt.Sprintf("%d–%d", seeds[0], seeds[len(seeds)-1])
	}
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.FormatUint(s, 10)
	}
	return strings.Join(parts, ",")
}
