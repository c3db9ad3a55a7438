package main

import (
	"encoding/json"
	"encoding/xml"
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

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

func init() {
	register(command{name: "chaos", summary: "run seeds with random fault plans; shrink every failure; JSON lines and JUnit", run: runChaos})
	register(command{name: "merge", summary: "merge chaos shards into the result one unsharded run gives", run: runMerge})
}

// chaosConfig is what a sweep covers: chaos.json in its directory, so that
// merge can tell shards of one sweep apart from strangers.
type chaosConfig struct {
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

// chaosResult is one line of results.jsonl.
type chaosResult struct {
	Index              int      `json:"index"` // in the whole sweep
	Scenario           string   `json:"scenario"`
	Strategy           string   `json:"strategy"`
	Seed               uint64   `json:"seed"`
	Verdict            string   `json:"verdict"`
	Failure            string   `json:"failure,omitempty"` // the failing check (Summary.Signature)
	Message            string   `json:"message,omitempty"`
	At                 string   `json:"at,omitempty"`
	Faults             []string `json:"faults"`
	ConvergenceMillis  *int64   `json:"convergenceMillis,omitempty"`
	MaxOvershoot       int      `json:"maxOvershoot"`
	Events             uint64   `json:"events"`
	Digest             string   `json:"digest"`
	Replay             string   `json:"replay,omitempty"`
	Repro              string   `json:"repro,omitempty"`
	ReproFaults        int      `json:"reproFaults,omitempty"`
	ReproSteps         int      `json:"reproSteps,omitempty"`
	ShrinkRuns         int      `json:"shrinkRuns,omitempty"`
	ShrinkNotMinimal   bool     `json:"shrinkNotMinimal,omitempty"`
	ConvergenceLatency string   `json:"convergenceLatency,omitempty"`
}

type chaosJob struct {
	scenario string
	strategy plugin.Strategy
	seed     uint64
	index    int
}

func runChaos(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("chaos", "[--scenarios X,Y,…] [--strategies A,B,…] [--seeds N|FROM-TO] [--jobs N] [--shard I/N] [--shrink-runs N] [--out DIR]", stderr)
	scenarios := fs.String("scenarios", "", "comma-separated built-in scenarios (default: every one the strategies can run, heavy ones left out)")
	strategies := fs.String("strategies", "upstream", "comma-separated strategies (see ctrlsim strategies)")
	seeds := fs.String("seeds", "100", "seeds: a count N (1…N) or a range FROM-TO; each seed draws its own fault plan")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "runs in parallel (the results do not depend on it)")
	shard := fs.String("shard", "0/1", "run only shard I of N (0 ≤ I < N) of the sweep: runs whose index mod N is I; ctrlsim merge joins the shards")
	shrinkRuns := fs.Int("shrink-runs", 100, "shrink each failure with at most this many candidate runs (0: do not shrink)")
	maxEvents := fs.Uint64("max-events", 2_000_000, "a run past this many events is a runaway (a failure), so one seed cannot stall the sweep")
	out := fs.String("out", filepath.Join("out", "chaos"), "directory for chaos.json, results.jsonl, junit.xml, summary.md and failures/")
	exitZero := fs.Bool("exit-zero", false, "exit 0 even when runs failed (for shards: ctrlsim merge decides; the results and JUnit still say)")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	seedList, err := parseSeeds(*seeds)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim chaos: --seeds: %v\n", err)
		return exitUsage
	}
	shardI, shardN, err := parseShard(*shard)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim chaos: --shard: %v\n", err)
		return exitUsage
	}
	if *jobs < 1 || *shrinkRuns < 0 || *maxEvents < 1000 {
		fmt.Fprintf(stderr, "ctrlsim chaos: --jobs must be at least 1, --shrink-runs at least 0 and --max-events at least 1000\n")
		return exitUsage
	}
	stNames := splitList(*strategies, nil)
	strats := make([]plugin.Strategy, len(stNames))
	for i, n := range stNames {
		if strats[i], err = models.Lookup(n); err != nil {
			fmt.Fprintf(stderr, "ctrlsim chaos: --strategies: %v\n", err)
			return exitUsage
		}
	}
	scNames, leftOut, err := selectScenarios(*scenarios, strats, seedList[0])
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim chaos: %v\n", err)
		return exitUsage
	}
	if leftOut != "" {
		fmt.Fprintf(stderr, "ctrlsim chaos: left out of the default scenarios: %s\n", leftOut)
	}
	if len(scNames) == 0 {
		fmt.Fprintf(stderr, "ctrlsim chaos: no scenario to run\n")
		return exitUsage
	}
	cfg := chaosConfig{Scenarios: scNames, Strategies: stNames, Seeds: *seeds, ShrinkRuns: *shrinkRuns, MaxEvents: *maxEvents, Shard: shardI, Shards: shardN}
	var all, mine []chaosJob
	for _, sc := range scNames {
		for _, st := range strats {
			for _, seed := range seedList {
				all = append(all, chaosJob{sc, st, seed, len(all)})
			}
		}
	}
	for _, j := range all {
		if j.index%shardN == shardI {
			mine = append(mine, j)
		}
	}
	cfg.Total = len(all)
	cfg.Description = fmt.Sprintf("strategies %s over scenarios %s, seeds %s, random fault plans", strings.Join(stNames, ", "), strings.Join(scNames, ", "), *seeds)

	tmp, err := makeTempSibling(*out)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim chaos: %v\n", err)
		return exitFail
	}
	defer os.RemoveAll(tmp)

	results := make([]chaosResult, len(mine))
	errs := make([]error, len(mine))
	var mu sync.Mutex
	done, failed := 0, 0
	start := time.Now() // progress only: never in a result
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < *jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = chaosRun(mine[i], tmp, *shrinkRuns, *maxEvents)
				mu.Lock()
				done++
				if results[i].Verdict != simrun.Pass {
					failed++
				}
				chaosProgress(stderr, done, failed, len(mine), time.Since(start))
				mu.Unlock()
			}
		}()
	}
	for i := range mine {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(stderr, "ctrlsim chaos: %s/%s seed %d: %v\n", mine[i].scenario, mine[i].strategy.Name, mine[i].seed, err)
			return exitFail
		}
	}
	if err := writeChaos(tmp, cfg, results); err != nil {
		fmt.Fprintf(stderr, "ctrlsim chaos: %v\n", err)
		return exitFail
	}
	if err := replaceDir(tmp, *out); err != nil {
		fmt.Fprintf(stderr, "ctrlsim chaos: %v\n", err)
		return exitFail
	}
	code := chaosReport(stdout, *out, cfg, results)
	if *exitZero {
		return exitOK
	}
	return code
}

// chaosRun runs one seed of one scenario with its random plan; a failure is
// written under failures/ and shrunk.
func chaosRun(j chaosJob, dir string, shrinkRuns int, maxEvents uint64) (chaosResult, error) {
	sc, err := workloads.Lookup(j.scenario)
	if err != nil {
		return chaosResult{}, err
	}
	sc.Faults = append(sc.Faults, faults.Random(j.seed, sc.FaultScope())...)
	res, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: j.strategy, Seed: j.seed, MaxEvents: maxEvents})
	if err != nil {
		return chaosResult{}, err
	}
	s := res.Summary
	r := chaosResult{Index: j.index, Scenario: j.scenario, Strategy: j.strategy.Name, Seed: j.seed, Verdict: s.Verdict,
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
	rel := filepath.Join("failures", j.scenario, j.strategy.Name, "seed-"+strconv.FormatUint(j.seed, 10))
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

func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("%q: expected I/N with 0 ≤ I < N, e.g. 0/4", s)
	}
	return i, n, nil
}

// chaosProgress: runs done, failed, rate and time left; rewritten in place
// on a terminal, every tenth of the way otherwise. Wall-clock figures are for
// the person watching and never reach a result.
func chaosProgress(w io.Writer, done, failed, total int, elapsed time.Duration) {
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	left := time.Duration(float64(total-done)/max(rate, 1e-9)) * time.Second / time.Second
	line := fmt.Sprintf("ctrlsim chaos: %d/%d runs, %d failed, %.1f runs/s, about %v left", done, total, failed, rate, left.Round(time.Second))
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(w, "\r%s\033[K", line)
			if done == total {
				fmt.Fprintln(w)
			}
			return
		}
	}
	if step := max(total/10, 1); done%step == 0 || done == total {
		fmt.Fprintln(w, line)
	}
}

// writeChaos writes chaos.json, results.jsonl, junit.xml and summary.md.
// Everything is in sweep order, so that the same sweep gives the same bytes
// with any --jobs, and merged shards give an unsharded sweep's.
func writeChaos(dir string, cfg chaosConfig, results []chaosResult) error {
	sort.Slice(results, func(i, j int) bool { return results[i].Index < results[j].Index })
	if err := writeFile(filepath.Join(dir, "chaos.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(cfg)
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "results.jsonl"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "junit.xml"), func(w io.Writer) error { return writeJUnit(w, cfg, results) }); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "summary.md"), func(w io.Writer) error { return writeChaosSummary(w, cfg, results) })
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name  string      `xml:"name,attr"`
	Tests int         `xml:"tests,attr"`
	Fails int         `xml:"failures,attr"`
	Errs  int         `xml:"errors,attr"`
	Cases []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one test suite per scenario and strategy and one test
// case per seed: a failure carries its check, message, replay and repro; an
// unknown verdict is an error (the run could not conclude).
func writeJUnit(w io.Writer, cfg chaosConfig, results []chaosResult) error {
	out := junitSuites{Name: "ctrlsim chaos"}
	var cur *junitSuite
	for _, r := range results {
		name := r.Scenario + "/" + r.Strategy
		if cur == nil || cur.Name != name {
			out.Suites = append(out.Suites, junitSuite{Name: name})
			cur = &out.Suites[len(out.Suites)-1]
		}
		c := junitCase{Name: "seed-" + strconv.FormatUint(r.Seed, 10), ClassName: "ctrlsim." + r.Scenario + "." + r.Strategy}
		detail := fmt.Sprintf("%s\nfaults: %s\nreplay: %s\nrepro: %s", r.Message, strings.Join(r.Faults, "; "), r.Replay, r.Repro)
		switch r.Verdict {
		case simrun.Pass:
		case simrun.Unknown:
			c.Error = &junitFailure{Message: "could not conclude: " + r.Message, Type: "unknown", Text: detail}
			cur.Errs++
			out.Errors++
		default:
			c.Failure = &junitFailure{Message: r.Failure + ": " + r.Message, Type: r.Verdict, Text: detail}
			cur.Fails++
			out.Fails++
		}
		cur.Tests++
		out.Tests++
		cur.Cases = append(cur.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func writeChaosSummary(w io.Writer, cfg chaosConfig, results []chaosResult) error {
	fmt.Fprintf(w, "# ctrlsim chaos\n\n%s: %d runs.\n\n", cfg.Description, len(results))
	fmt.Fprintf(w, "| scenario | strategy | runs | failed | unknown | p50 convergence | max convergence |\n|---|---|---:|---:|---:|---:|---:|\n")
	type key struct{ sc, st string }
	var order []key
	groups := map[key][]chaosResult{}
	for _, r := range results {
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
	var bad []chaosResult
	for _, r := range results {
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

func chaosReport(stdout io.Writer, dir string, cfg chaosConfig, results []chaosResult) int {
	failed, unknown := 0, 0
	for _, r := range results {
		switch r.Verdict {
		case simrun.Pass:
		case simrun.Unknown:
			unknown++
		default:
			failed++
			fmt.Fprintf(stdout, "FAIL %s/%s seed %d: %s: %s\n", r.Scenario, r.Strategy, r.Seed, r.Failure, r.Message)
			fmt.Fprintf(stdout, "  replay: %s (in %s)\n", r.Replay, dir)
			if r.Repro != "" {
				fmt.Fprintf(stdout, "  repro:  ctrlsim run --scenario %s (%d faults, %d steps)\n", filepath.Join(dir, r.Repro), r.ReproFaults, r.ReproSteps)
			}
		}
	}
	shard := ""
	if cfg.Shards > 1 {
		shard = fmt.Sprintf(" (shard %d/%d)", cfg.Shard, cfg.Shards)
	}
	fmt.Fprintf(stdout, "%d runs%s, %d failed, %d unknown; wrote %s (results.jsonl, junit.xml, summary.md, failures/)\n", len(results), shard, failed, unknown, dir)
	switch {
	case failed > 0:
		return exitFail
	case unknown > 0:
		return exitUnknown
	}
	return exitOK
}

func makeTempSibling(out string) (string, error) {
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(parent, "."+filepath.Base(out)+".tmp-")
}

func replaceDir(tmp, out string) error {
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// runMerge joins shard directories of one sweep into the directory the
// unsharded sweep would have written.
func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("merge", "--out DIR SHARD_DIR…", stderr)
	out := fs.String("out", filepath.Join("out", "chaos"), "the merged directory")
	pos, code := parseWithArgs(fs, args, stdout)
	if code >= 0 {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "ctrlsim merge: give the shard directories to merge")
		return exitUsage
	}
	var cfg *chaosConfig
	var results []chaosResult
	seen := map[int]string{}
	for _, dir := range pos {
		var c chaosConfig
		data, err := os.ReadFile(filepath.Join(dir, "chaos.json"))
		if err == nil {
			err = json.Unmarshal(data, &c)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ctrlsim merge: %s is not a chaos directory: %v\n", dir, err)
			return exitUsage
		}
		if cfg == nil {
			cfg = &c
		} else if c.Description != cfg.Description || c.Total != cfg.Total || c.ShrinkRuns != cfg.ShrinkRuns || c.MaxEvents != cfg.MaxEvents {
			fmt.Fprintf(stderr, "ctrlsim merge: %s is a shard of another sweep (%s) than %s (%s)\n", dir, c.Description, pos[0], cfg.Description)
			return exitUsage
		}
		f, err := os.Open(filepath.Join(dir, "results.jsonl"))
		if err != nil {
			fmt.Fprintf(stderr, "ctrlsim merge: %v\n", err)
			return exitUsage
		}
		dec := json.NewDecoder(f)
		for {
			var r chaosResult
			if err := dec.Decode(&r); err == io.EOF {
				break
			} else if err != nil {
				f.Close()
				fmt.Fprintf(stderr, "ctrlsim merge: %s: %v\n", filepath.Join(dir, "results.jsonl"), err)
				return exitUsage
			}
			if other, dup := seen[r.Index]; dup {
				f.Close()
				fmt.Fprintf(stderr, "ctrlsim merge: run %d is in both %s and %s\n", r.Index, other, dir)
				return exitUsage
			}
			seen[r.Index] = dir
			results = append(results, r)
		}
		f.Close()
	}
	if len(results) != cfg.Total {
		fmt.Fprintf(stderr, "ctrlsim merge: the shards hold %d of the sweep's %d runs: a shard is missing\n", len(results), cfg.Total)
		return exitUsage
	}
	tmp, err := makeTempSibling(*out)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim merge: %v\n", err)
		return exitFail
	}
	defer os.RemoveAll(tmp)
	for _, r := range results {
		if r.Verdict == simrun.Pass {
			continue
		}
		rel := filepath.Join("failures", r.Scenario, r.Strategy, "seed-"+strconv.FormatUint(r.Seed, 10))
		if err := copyDir(filepath.Join(seen[r.Index], rel), filepath.Join(tmp, rel)); err != nil {
			fmt.Fprintf(stderr, "ctrlsim merge: %v\n", err)
			return exitFail
		}
	}
	merged := *cfg
	merged.Shard, merged.Shards = 0, 1
	if err := writeChaos(tmp, merged, results); err != nil {
		fmt.Fprintf(stderr, "ctrlsim merge: %v\n", err)
		return exitFail
	}
	if err := replaceDir(tmp, *out); err != nil {
		fmt.Fprintf(stderr, "ctrlsim merge: %v\n", err)
		return exitFail
	}
	return chaosReport(stdout, *out, merged, results)
}

func copyDir(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
