package ctrlsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// ChaosConfig is a chaos sweep: every scenario × strategy × seed, each seed
// with its own random fault plan (faults.Random over the scenario's
// FaultScope), or the Shard-th of every Shards of those runs.
type ChaosConfig struct {
	// Scenarios are built-in scenarios; none: every one all the
	// strategies can run, heavy ones left out (DefaultScenarios).
	Scenarios  []string
	Strategies []plugin.Strategy
	Seeds      []uint64
	// Jobs is how many runs go at once (default GOMAXPROCS). Nothing
	// written depends on it.
	Jobs int
	// Shard and Shards: run only the runs whose index in the sweep mod
	// Shards is Shard (Shards 0 or 1: every run). Merge joins the shards.
	Shard, Shards int
	// ShrinkRuns shrinks each failure into a repro.yaml with at most this
	// many candidate runs (0: do not shrink).
	ShrinkRuns int
	// MaxEvents: a run past this many events is a runaway, a failure, so
	// that one seed cannot stall the sweep (default 2,000,000).
	MaxEvents uint64
	// Out is the sweep's directory: chaos.json, results.jsonl, junit.xml,
	// summary.md and failures/ (a run directory per run that did not pass).
	// It is written to a temporary sibling and renamed into place.
	Out string
	// Progress, if set, gets a line of progress as the runs finish (wall
	// rates: for people, never in a result).
	Progress io.Writer
}

// ChaosSweep is what a sweep directory covers (its chaos.json), so that
// Merge can tell shards of one sweep from strangers.
type ChaosSweep struct {
	Scenarios   []string `json:"scenarios"`
	Strategies  []string `json:"strategies"`
	Seeds       string   `json:"seeds"`
	ShrinkRuns  int      `json:"shrinkRuns"`
	MaxEvents   uint64   `json:"maxEvents"`
	Total       int      `json:"total"` // runs in the whole sweep
	Shard       int      `json:"shard"` // this directory's shard (0 of 1 when unsharded)
	Shards      int      `json:"shards"`
	Description string   `json:"description"`
}

// ChaosRun is one run of a sweep: a line of results.jsonl.
type ChaosRun struct {
	Index              int      `json:"index"` // in the whole sweep
	Scenario           string   `json:"scenario"`
	Strategy           string   `json:"strategy"`
	Seed               uint64   `json:"seed"`
	Verdict            string   `json:"verdict"`
	Failure            string   `json:"failure,omitempty"` // the failing check (run.Summary.Signature)
	Message            string   `json:"message,omitempty"`
	At                 string   `json:"at,omitempty"`
	Faults             []string `json:"faults"`
	ConvergenceMillis  *int64   `json:"convergenceMillis,omitempty"`
	MaxOvershoot       int      `json:"maxOvershoot"`
	Events             uint64   `json:"events"`
	Digest             string   `json:"digest"`
	Replay             string   `json:"replay,omitempty"` // relative to the sweep's directory
	Repro              string   `json:"repro,omitempty"`  // relative to the sweep's directory
	ReproFaults        int      `json:"reproFaults,omitempty"`
	ReproSteps         int      `json:"reproSteps,omitempty"`
	ShrinkRuns         int      `json:"shrinkRuns,omitempty"`
	ShrinkNotMinimal   bool     `json:"shrinkNotMinimal,omitempty"`
	ConvergenceLatency string   `json:"convergenceLatency,omitempty"`
}

// ChaosResult is a written sweep (or merged shards): its directory, what it
// covers and its runs in sweep order.
type ChaosResult struct {
	Dir   string
	Sweep ChaosSweep
	Runs  []ChaosRun
	// LeftOut says which scenarios the default selection left out, and
	// why ("" if none, or if the scenarios were named).
	LeftOut string
}

// Counts are the runs that failed and those that could not conclude.
func (r *ChaosResult) Counts() (failed, unknown int) {
	for _, x := range r.Runs {
		switch x.Verdict {
		case simrun.Pass:
		case simrun.Unknown:
			unknown++
		default:
			failed++
		}
	}
	return failed, unknown
}

// ExitCode is Main's exit code for the sweep: ExitFail if a run failed,
// else ExitUnknown if one could not conclude, else ExitOK.
func (r *ChaosResult) ExitCode() int {
	switch failed, unknown := r.Counts(); {
	case failed > 0:
		return ExitFail
	case unknown > 0:
		return ExitUnknown
	}
	return ExitOK
}

// WriteText writes what ctrlsim chaos prints: every failure with its
// replay and repro commands, and a line of counts.
func (r *ChaosResult) WriteText(w io.Writer) error {
	for _, x := range r.Runs {
		switch x.Verdict {
		case simrun.Pass, simrun.Unknown:
			continue
		}
		fmt.Fprintf(w, "FAIL %s/%s seed %d: %s: %s\n", x.Scenario, x.Strategy, x.Seed, x.Failure, x.Message)
		fmt.Fprintf(w, "  replay: %s (in %s)\n", x.Replay, r.Dir)
		if x.Repro != "" {
			fmt.Fprintf(w, "  repro:  ctrlsim run --scenario %s (%d faults, %d steps)\n", filepath.Join(r.Dir, x.Repro), x.ReproFaults, x.ReproSteps)
		}
	}
	failed, unknown := r.Counts()
	shard := ""
	if r.Sweep.Shards > 1 {
		shard = fmt.Sprintf(" (shard %d/%d)", r.Sweep.Shard, r.Sweep.Shards)
	}
	_, err := fmt.Fprintf(w, "%d runs%s, %d failed, %d unknown; wrote %s (results.jsonl, junit.xml, summary.md, failures/)\n",
		len(r.Runs), shard, failed, unknown, r.Dir)
	return err
}

type chaosJob struct {
	scenario string
	strategy plugin.Strategy
	seed     uint64
	index    int
}

// Chaos runs a sweep and writes its directory (cfg.Out). An error of type
// *BadInputError means nothing ran (an unknown scenario, a strategy that
// cannot run one, an invalid shard); a cancelled ctx stops the sweep
// between runs and leaves cfg.Out as it was.
func Chaos(ctx context.Context, cfg ChaosConfig) (*ChaosResult, error) {
	if cfg.Jobs < 1 {
		cfg.Jobs = runtime.GOMAXPROCS(0)
	}
	if cfg.Shards == 0 {
		cfg.Shards = 1
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = 2_000_000
	}
	if err := checkSweep(cfg.Out, cfg.Strategies, cfg.Seeds); err != nil {
		return nil, err
	}
	switch {
	case cfg.Shards < 1 || cfg.Shard < 0 || cfg.Shard >= cfg.Shards:
		return nil, badInput(fmt.Errorf("shard %d/%d: expected I/N with 0 ≤ I < N", cfg.Shard, cfg.Shards))
	case cfg.ShrinkRuns < 0:
		return nil, badInput(fmt.Errorf("shrink runs %d: at least 0", cfg.ShrinkRuns))
	}
	scNames, leftOut, err := selectScenarios(cfg.Scenarios, cfg.Strategies, cfg.Seeds[0])
	if err != nil {
		return nil, badInput(err)
	}
	if len(scNames) == 0 {
		return nil, badInput(errors.New("no scenario to run"))
	}
	stNames := strategyNames(cfg.Strategies)
	seeds := FormatSeeds(cfg.Seeds)
	sweep := ChaosSweep{Scenarios: scNames, Strategies: stNames, Seeds: seeds, ShrinkRuns: cfg.ShrinkRuns, MaxEvents: cfg.MaxEvents,
		Shard: cfg.Shard, Shards: cfg.Shards,
		Description: fmt.Sprintf("strategies %s over scenarios %s, seeds %s, random fault plans", strings.Join(stNames, ", "), strings.Join(scNames, ", "), seeds)}
	var mine []chaosJob
	for _, sc := range scNames {
		for _, st := range cfg.Strategies {
			for _, seed := range cfg.Seeds {
				if sweep.Total%cfg.Shards == cfg.Shard {
					mine = append(mine, chaosJob{sc, st, seed, sweep.Total})
				}
				sweep.Total++
			}
		}
	}

	tmp, err := makeTempSibling(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	runs := make([]ChaosRun, len(mine))
	errs := make([]error, len(mine))
	failed := 0
	start := time.Now() // progress only: never in a result
	forEachJob(ctx, len(mine), cfg.Jobs, func(i int) {
		runs[i], errs[i] = chaosRun(mine[i], tmp, cfg.ShrinkRuns, cfg.MaxEvents)
	}, func(i, done int) {
		if runs[i].Verdict != simrun.Pass {
			failed++
		}
		if cfg.Progress != nil {
			chaosProgress(cfg.Progress, done, failed, len(mine), time.Since(start))
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s/%s seed %d: %w", mine[i].scenario, mine[i].strategy.Name, mine[i].seed, err)
		}
	}
	if err := writeChaos(tmp, sweep, runs); err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, cfg.Out); err != nil {
		return nil, err
	}
	return &ChaosResult{Dir: cfg.Out, Sweep: sweep, Runs: runs, LeftOut: leftOut}, nil
}

// ChaosScenario is a built-in scenario with the random fault plan of seed
// added: exactly what a sweep runs for that seed.
func ChaosScenario(name string, seed uint64) (*workloads.Scenario, error) {
	sc, err := workloads.Lookup(name)
	if err != nil {
		return nil, badInput(err)
	}
	sc.Faults = append(sc.Faults, faults.Random(seed, sc.FaultScope())...)
	return sc, nil
}

// chaosRun runs one seed of one scenario with its random plan; a failure is
// written under failures/ and shrunk.
func chaosRun(j chaosJob, dir string, shrinkRuns int, maxEvents uint64) (ChaosRun, error) {
	sc, err := ChaosScenario(j.scenario, j.seed)
	if err != nil {
		return ChaosRun{}, err
	}
	res, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: j.strategy, Seed: j.seed, MaxEvents: maxEvents})
	if err != nil {
		return ChaosRun{}, err
	}
	s := res.Summary
	r := ChaosRun{Index: j.index, Scenario: j.scenario, Strategy: j.strategy.Name, Seed: j.seed, Verdict: s.Verdict,
		ConvergenceMillis: s.ConvergenceMillis, ConvergenceLatency: s.ConvergenceLatency, MaxOvershoot: s.MaxOvershoot,
		Events: s.Events, Digest: s.Digest, Faults: []string{}}
	for _, f := range sc.Faults {
		r.Faults = append(r.Faults, f.String())
	}
	if s.Verdict == simrun.Pass {
		return r, nil
	}
	r.Failure = s.Signature()
	for _, c := range s.Checks {
		if c.Verdict != "pass" {
			r.Message, r.At = c.Message, c.At
			break
		}
	}
	if len(s.Failures) > 0 {
		r.Message = s.Failures[0].Error()
	}
	rel := failureDir(j.scenario, j.strategy.Name, j.seed)
	res.Summary.Replay = "ctrlsim replay " + rel
	if err := res.WriteDir(filepath.Join(dir, rel)); err != nil {
		return r, err
	}
	r.Replay = res.Summary.Replay
	if shrinkRuns == 0 || r.Failure == "" {
		return r, nil // an unknown verdict has no failure to keep
	}
	text, err := sc.SelfContained(sc.Faults, j.strategy.Name, j.seed)
	if err != nil {
		return r, err
	}
	want := r.Failure
	shrunk, err := faults.Shrink(text, func(text []byte) (faults.Outcome, error) {
		c, err := workloads.ParseScenario("repro.yaml", text, nil)
		if err != nil {
			return faults.Outcome{}, err
		}
		x, err := simrun.Run(simrun.Config{Scenario: c, Strategy: j.strategy, Seed: j.seed, MaxEvents: maxEvents})
		if err != nil {
			return faults.Outcome{}, err
		}
		return faults.Outcome{Same: x.Summary.Signature() == want}, nil
	}, shrinkRuns)
	if err != nil {
		return r, err
	}
	repro := filepath.Join(rel, "repro.yaml")
	header := fmt.Sprintf("# A minimal reproducer of %s (%s, seed %d): %s.\n# Run it: ctrlsim run --scenario %s\n", j.scenario, j.strategy.Name, j.seed, want, repro)
	if err := os.WriteFile(filepath.Join(dir, repro), append([]byte(header), shrunk.Scenario...), 0o644); err != nil {
		return r, err
	}
	r.Repro, r.ShrinkRuns, r.ShrinkNotMinimal = repro, shrunk.Runs, shrunk.Exhausted
	if c, err := workloads.ParseScenario("repro.yaml", shrunk.Scenario, nil); err == nil {
		r.ReproFaults, r.ReproSteps = len(c.Faults), len(c.Steps)
	}
	return r, nil
}

// failureDir is a failing run's directory in a sweep's.
func failureDir(scenario, strategy string, seed uint64) string {
	return filepath.Join("failures", scenario, strategy, "seed-"+strconv.FormatUint(seed, 10))
}

// chaosProgress: runs done, failed, rate and time left; rewritten in place
// on a terminal, every tenth of the way otherwise. Wall-clock figures are for
// the person watching and never reach a result.
func chaosProgress(w io.Writer, done, failed, total int, elapsed time.Duration) {
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	left := time.Duration(float64(total-done)/max(rate, 1e-9)) * time.Second / time.Second
	line := fmt.Sprintf("ctrlsim chaos: %d/%d runs, %d failed, %.1f runs/s, about %v left", done, total, failed, rate, left.Round(time.Second))
	if isTerminal(w) {
		fmt.Fprintf(w, "\r%s\033[K", line)
		if done == total {
			fmt.Fprintln(w)
		}
		return
	}
	if step := max(total/10, 1); done%step == 0 || done == total {
		fmt.Fprintln(w, line)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeChaos writes chaos.json, results.jsonl, junit.xml and summary.md.
// Everything is in sweep order, so that the same sweep gives the same bytes
// with any number of jobs, and merged shards give an unsharded sweep's.
func writeChaos(dir string, sweep ChaosSweep, runs []ChaosRun) error {
	sort.Slice(runs, func(i, j int) bool { return runs[i].Index < runs[j].Index })
	if err := writeFile(filepath.Join(dir, "chaos.json"), func(w io.Writer) error { return writeJSON(w, sweep) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "results.jsonl"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range runs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "junit.xml"), func(w io.Writer) error { return WriteJUnit(w, runs) }); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "summary.md"), func(w io.Writer) error { return writeChaosSummary(w, sweep, runs) })
}

func writeChaosSummary(w io.Writer, sweep ChaosSweep, runs []ChaosRun) error {
	fmt.Fprintf(w, "# ctrlsim chaos\n\n%s: %d runs.\n\n", sweep.Description, len(runs))
	fmt.Fprintf(w, "| scenario | strategy | runs | failed | unknown | p50 convergence | max convergence |\n|---|---|---:|---:|---:|---:|---:|\n")
	type key struct{ sc, st string }
	var order []key
	groups := map[key][]ChaosRun{}
	for _, r := range runs {
		k := key{r.Scenario, r.Strategy}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		rs := groups[k]
		failed, unknown := 0, 0
		var lat []int64
		for _, r := range rs {
			switch r.Verdict {
			case simrun.Pass:
			case simrun.Unknown:
				unknown++
			default:
				failed++
			}
			if r.ConvergenceMillis != nil {
				lat = append(lat, *r.ConvergenceMillis)
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p50, mx := "–", "–"
		if len(lat) > 0 {
			p50 = (time.Duration(lat[len(lat)/2]) * time.Millisecond).String()
			mx = (time.Duration(lat[len(lat)-1]) * time.Millisecond).String()
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %s | %s |\n", mdEscape(k.sc), mdEscape(k.st), len(rs), failed, unknown, p50, mx)
	}
	var bad []ChaosRun
	for _, r := range runs {
		if r.Verdict != simrun.Pass {
			bad = append(bad, r)
		}
	}
	if len(bad) == 0 {
		_, err := fmt.Fprintf(w, "\nNo failures.\n")
		return err
	}
	fmt.Fprintf(w, "\n## Failures\n\n")
	for _, r := range bad {
		fmt.Fprintf(w, "- **%s / %s / seed %d** — %s %s", mdEscape(r.Scenario), mdEscape(r.Strategy), r.Seed, r.Verdict, mdEscape(r.Failure))
		if r.Message != "" {
			fmt.Fprintf(w, ": %s", mdEscape(r.Message))
		}
		fmt.Fprintf(w, "\n  - replay: `%s`\n", r.Replay)
		if r.Repro != "" {
			fmt.Fprintf(w, "  - minimal reproducer (%d faults, %d steps, %d shrink runs): `ctrlsim run --scenario %s`\n", r.ReproFaults, r.ReproSteps, r.ShrinkRuns, r.Repro)
		}
	}
	return nil
}

// mdEscape keeps names from manifests from being read as Markdown or HTML.
func mdEscape(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]")
	return r.Replace(s)
}

func makeTempSibling(out string) (string, error) {
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(parent, "."+filepath.Base(out)+".tmp-")
}

// replaceDir moves tmp into place at out: the old directory is moved aside,
// the new one renamed in, the old one removed. Killed at any point, it
// leaves the old directory or the new one at out (or, between the two
// renames, none), never half of one.
func replaceDir(tmp, out string) error {
	old := tmp + "-old"
	switch err := os.Rename(out, old); {
	case err == nil:
		defer os.RemoveAll(old)
	case !os.IsNotExist(err):
		return err
	}
	return os.Rename(tmp, out)
}

// forEachJob runs work(i) for i in [0, n) on jobs goroutines, and then, one
// at a time and in completion order, finished(i, done) (progress, counters).
// It stops handing out work once ctx is done. The runs are independent
// simulations: parallelism is outside the simulated world, and each result
// goes to its own slot, so the outputs do not depend on jobs.
func forEachJob(ctx context.Context, n, jobs int, work func(i int), finished func(i, done int)) {
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	next := make(chan int)
	for range jobs {
		wg.Go(func() {
			for i := range next {
				work(i)
				mu.Lock()
				done++
				finished(i, done)
				mu.Unlock()
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
}

// writeFile writes what fn writes (small files: a sweep's summaries) to path.
func writeFile(path string, fn func(io.Writer) error) error {
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func newChaosCmd(set *strategySet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos [flags]",
		Short: "Run seeds with random fault plans; shrink every failure; JSON lines and JUnit",
		Example: `  ctrlsim chaos --seeds 100 --out out/chaos
  ctrlsim chaos --seeds 1-1000 --shard 3/8 --exit-zero --out out/shard-3   # then: ctrlsim merge`,
		Args: noArgs,
	}
	f := cmd.Flags()
	sel := addSelectionFlags(cmd, set, "upstream", "comma-separated strategies (see ctrlsim strategies)",
		"100", "seeds: a count N (1…N) or a range FROM-TO; each seed draws its own fault plan")
	shard := f.String("shard", "0/1", "run only shard I of N (0 ≤ I < N) of the sweep: runs whose index mod N is I; ctrlsim merge joins the shards")
	shrinkRuns := f.Int("shrink-runs", 100, "shrink each failure with at most this many candidate runs (0: do not shrink)")
	maxEvents := f.Uint64("max-events", 2_000_000, "a run past this many events is a runaway (a failure), so one seed cannot stall the sweep")
	out := f.String("out", filepath.Join("out", "chaos"), "directory for chaos.json, results.jsonl, junit.xml, summary.md and failures/")
	exitZero := f.Bool("exit-zero", false, "exit 0 even when runs failed (for shards: ctrlsim merge decides; the results and JUnit still say)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		shardI, shardN, err := ParseShard(*shard)
		if err != nil {
			return usagef(cmd, "--shard: %v", err)
		}
		if err := atLeast(cmd, "shrink-runs", *shrinkRuns, 0); err != nil {
			return err
		}
		if *maxEvents < 1000 {
			return usagef(cmd, "--max-events must be at least 1000, not %d", *maxEvents)
		}
		strats, scNames, seedList, err := sel.resolve(cmd, "no scenario to run")
		if err != nil {
			return err
		}
		res, err := Chaos(cmd.Context(), ChaosConfig{Scenarios: scNames, Strategies: strats, Seeds: seedList, Jobs: *sel.jobs,
			Shard: shardI, Shards: shardN, ShrinkRuns: *shrinkRuns, MaxEvents: *maxEvents, Out: *out, Progress: cmd.ErrOrStderr()})
		if err != nil {
			return errorOf(cmd, err)
		}
		if err := res.WriteText(cmd.OutOrStdout()); err != nil {
			return failf(cmd, "%v", err)
		}
		if *exitZero {
			return nil
		}
		return exit(res.ExitCode())
	}
	return cmd
}

// atLeast checks an integer flag's lower bound.
func atLeast(cmd *cobra.Command, flag string, v, least int) error {
	if v < least {
		return usagef(cmd, "--%s must be at least %d, not %d", flag, least, v)
	}
	return nil
}

// ParseShard reads I/N (0 ≤ I < N), as --shard takes it.
func ParseShard(s string) (shard, shards int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("%q: expected I/N with 0 ≤ I < N, e.g. 0/4", s)
	}
	return i, n, nil
}
