package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/reports"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

func init() {
	register(command{name: "compare", summary: "compare strategies over scenarios and seeds (Markdown, HTML and JSON report with figures)", run: runCompare})
}

func runCompare(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("compare", "[--strategies A,B,…] [--scenarios X,Y,…] [--seeds N|FROM-TO] [--jobs N] [--figures svg,png|svg|none] [--exit-zero] [--out DIR]", stderr)
	strategies := fs.String("strategies", "", "comma-separated strategies (default: all, see ctrlsim strategies)")
	scenarios := fs.String("scenarios", "", "comma-separated built-in scenarios (default: all that the strategies can run, heavy ones left out; see ctrlsim scenarios)")
	seeds := fs.String("seeds", "3", "seeds: a count N (1…N) or a range FROM-TO")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "runs in parallel (the report does not depend on it)")
	out := fs.String("out", filepath.Join("out", "compare"), "report directory: report.md, report.html, report.json, cdf-<scenario>.svg/.png, figures/ (the first seed's runs drawn) and runs/")
	output := fs.String("o", "text", "what to print: text (the Markdown table) or json")
	exitZero := fs.Bool("exit-zero", false, "exit 0 even when runs failed (the report lists them): for make report, whose point is to show the strategies that fail")
	figureFormats := fs.String("figures", "svg,png", "how to draw the first seed's run of each strategy on each scenario (figures/): svg,png; svg (faster: no PNG); or none (no figures of runs; the latency CDFs are always drawn)")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	stNames := splitList(*strategies, models.Names())
	seedList, err := parseSeeds(*seeds)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim compare: --seeds: %v\n", err)
		return exitUsage
	}
	if *jobs < 1 {
		fmt.Fprintf(stderr, "ctrlsim compare: --jobs must be at least 1, not %d\n", *jobs)
		return exitUsage
	}
	var drawRuns, withPNG bool
	switch *figureFormats {
	case "svg,png", "png,svg":
		drawRuns, withPNG = true, true
	case "svg":
		drawRuns = true
	case "none":
	default:
		fmt.Fprintf(stderr, "ctrlsim compare: --figures must be svg,png, svg or none, not %q\n", *figureFormats)
		return exitUsage
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "ctrlsim compare: -o must be text or json, not %q\n", *output)
		return exitUsage
	}
	strats := make([]plugin.Strategy, len(stNames))
	for i, n := range stNames {
		if strats[i], err = models.Lookup(n); err != nil {
			fmt.Fprintf(stderr, "ctrlsim compare: --strategies: %v\n", err)
			return exitUsage
		}
	}
	scNames, leftOut, err := selectScenarios(*scenarios, strats, seedList[0])
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim compare: %v\n", err)
		return exitUsage
	}
	if leftOut != "" {
		fmt.Fprintf(stderr, "ctrlsim compare: left out of the default scenarios: %s\n", leftOut)
	}
	if len(scNames) == 0 {
		fmt.Fprintf(stderr, "ctrlsim compare: no built-in scenario can run with strategies %s: name scenarios with --scenarios\n", strings.Join(stNames, ", "))
		return exitUsage
	}

	type job struct {
		scenario string
		strategy plugin.Strategy
		seed     uint64
	}
	var todo []job
	for _, sc := range scNames {
		for _, st := range strats {
			for _, seed := range seedList {
				todo = append(todo, job{sc, st, seed})
			}
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(*out)), "."+filepath.Base(*out)+".tmp-")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(filepath.Clean(*out)), 0o755); err != nil {
			fmt.Fprintf(stderr, "ctrlsim compare: %v\n", err)
			return exitFail
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(filepath.Clean(*out)), "."+filepath.Base(*out)+".tmp-"); err != nil {
			fmt.Fprintf(stderr, "ctrlsim compare: %v\n", err)
			return exitFail
		}
	}
	defer os.RemoveAll(tmp)

	summaries := make([]simrun.Summary, len(todo))
	figures := make([]*reports.RunFigures, len(todo))
	errs := make([]error, len(todo))
	startErrs := make([]bool, len(todo)) // the run could not start: bad input
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < *jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := todo[i]
				sc, err := workloads.Lookup(j.scenario)
				if err == nil {
					var res *simrun.Result
					if res, err = simrun.Run(simrun.Config{Scenario: sc, Strategy: j.strategy, Seed: j.seed}); err == nil {
						summaries[i] = res.Summary
						err = res.WriteDir(filepath.Join(tmp, filepath.FromSlash(reports.RunDir(j.scenario, j.strategy.Name, j.seed))))
						if err == nil && drawRuns && j.seed == seedList[0] {
							// The pair's representative run: its figures.
							figures[i], err = reports.DrawRun(res, withPNG)
						}
					} else {
						startErrs[i] = true
					}
				}
				errs[i] = err
				mu.Lock()
				done++
				progress(stderr, done, len(todo))
				mu.Unlock()
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(stderr, "ctrlsim compare: %s/%s seed %d: %v\n", todo[i].scenario, todo[i].strategy.Name, todo[i].seed, err)
			if startErrs[i] {
				return exitUsage
			}
			return exitFail
		}
	}

	cmp := reports.Compare(stNames, scNames, seedList, summaries)
	rep := reports.Report{Comparison: cmp, Summaries: summaries, Runs: figures}
	if err := rep.WriteDir(tmp); err != nil {
		fmt.Fprintf(stderr, "ctrlsim compare: %v\n", err)
		return exitFail
	}
	// Into place: the old report is moved aside, the new one renamed in,
	// the old one removed. A run killed at any point leaves the old report
	// or the new one at --out (or, between the two renames, none), never
	// half of one.
	old := tmp + "-old"
	switch err := os.Rename(*out, old); {
	case err == nil:
		defer os.RemoveAll(old)
	case !os.IsNotExist(err):
		fmt.Fprintf(stderr, "ctrlsim compare: %v\n", err)
		return exitFail
	}
	if err := os.Rename(tmp, *out); err != nil {
		fmt.Fprintf(stderr, "ctrlsim compare: %v\n", err)
		return exitFail
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(cmp)
	} else {
		cmp.WriteMarkdown(stdout)
		fmt.Fprintf(stdout, "\nwrote %s (report.md, report.html, report.json, cdf-<scenario>.svg/.png, figures/, runs/)\n", *out)
	}
	for _, r := range cmp.Rows {
		if r.Failed > 0 && !*exitZero {
			return exitFail
		}
	}
	return exitOK
}

// selectScenarios resolves --scenarios. Named scenarios must exist, and every
// strategy must be able to run them: if one cannot, the error is the run's own
// (run refuses a scenario whose objects need a controller the strategy
// does not run). The default is every built-in scenario but those that could
// not give every strategy a row of runs: an object of the scenario needs a
// controller some compared strategy does not run, or a step needs what
// ctrlsim does not have yet (workloads.Scenario.Unsupported); and the heavy
// ones. leftOut says which were left out, and why, in one line ("" if none).
func selectScenarios(flag string, strats []plugin.Strategy, seed uint64) (names []string, leftOut string, err error) {
	if strings.TrimSpace(flag) != "" {
		names = splitList(flag, nil)
		for _, n := range names {
			sc, err := workloads.Lookup(n)
			if err != nil {
				return nil, "", fmt.Errorf("--scenarios: %v", err)
			}
			for _, st := range strats {
				if _, _, missing := st.Missing(sc.AllObjects()); missing {
					// Run refuses it before it starts: its error is the one to give.
					if _, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: st, Seed: seed}); err != nil {
						return nil, "", err
					}
				}
			}
		}
		return names, "", nil
	}
	var reasons []string
	byReason := map[string][]string{}
	for _, n := range workloads.Names() {
		sc, err := workloads.Lookup(n)
		if err != nil {
			return nil, "", err
		}
		reason := ""
		objs := sc.AllObjects()
		var cannot []string
		var kind string
		for _, st := range strats {
			if k, _, missing := st.Missing(objs); missing {
				cannot = append(cannot, st.Name)
				if kind == "" {
					kind = string(k)
				}
			}
		}
		_, unsupported := sc.Unsupported()
		switch {
		case len(cannot) == len(strats) && len(strats) > 0:
			reason = fmt.Sprintf("no compared strategy runs a %s controller", kind)
		case len(cannot) == 1:
			reason = fmt.Sprintf("strategy %s runs no %s controller", cannot[0], kind)
		case len(cannot) > 0:
			reason = fmt.Sprintf("strategies %s run no %s controller", strings.Join(cannot, ", "), kind)
		case unsupported != nil:
			reason = unsupported.Error()
		case sc.Heavy:
			reason = "heavy, run only when named in --scenarios"
		}
		if reason == "" {
			names = append(names, n)
			continue
		}
		if _, seen := byReason[reason]; !seen {
			reasons = append(reasons, reason)
		}
		byReason[reason] = append(byReason[reason], n)
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = strings.Join(byReason[r], ", ") + " (" + r + ")"
	}
	return names, strings.Join(parts, "; "), nil
}

// progress reports runs done: a line rewritten in place on a terminal, a line
// every tenth of the way otherwise (CI logs).
func progress(w io.Writer, done, total int) {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(w, "\rctrlsim compare: %d/%d runs", done, total)
			if done == total {
				fmt.Fprintln(w)
			}
			return
		}
	}
	if step := max(total/10, 1); done%step == 0 || done == total {
		fmt.Fprintf(w, "ctrlsim compare: %d/%d runs\n", done, total)
	}
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func splitList(s string, all []string) []string {
	if strings.TrimSpace(s) == "" {
		return all
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseSeeds reads "N" (seeds 1…N) or "FROM-TO".
func parseSeeds(s string) ([]uint64, error) {
	from, to := uint64(1), uint64(0)
	if a, b, ok := strings.Cut(s, "-"); ok {
		var err error
		if from, err = strconv.ParseUint(a, 10, 64); err != nil {
			return nil, fmt.Errorf("%q is not a range FROM-TO", s)
		}
		if to, err = strconv.ParseUint(b, 10, 64); err != nil {
			return nil, fmt.Errorf("%q is not a range FROM-TO", s)
		}
	} else {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a count or a range FROM-TO", s)
		}
		to = n
	}
	if to < from {
		return nil, fmt.Errorf("%q is empty", s)
	}
	if to-from >= 1_000_000 {
		return nil, fmt.Errorf("%q is more than a million seeds", s)
	}
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out, nil
}
