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

	simrun "github.com/ctrlsim/ctrlsim/harness/run"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/reports"
	"github.com/ctrlsim/ctrlsim/workloads"
)

func init() {
	register(command{name: "compare", summary: "compare strategies over scenarios and seeds (Markdown and JSON report)", run: runCompare})
}

func runCompare(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("compare", "[--strategies A,B,…] [--scenarios X,Y,…] [--seeds N|FROM-TO] [--jobs N] [--out DIR]", stderr)
	strategies := fs.String("strategies", "", "comma-separated strategies (default: all, see ctrlsim strategies)")
	scenarios := fs.String("scenarios", "", "comma-separated built-in scenarios (default: all, see ctrlsim scenarios)")
	seeds := fs.String("seeds", "3", "seeds: a count N (1…N) or a range FROM-TO")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "runs in parallel (the report does not depend on it)")
	out := fs.String("out", filepath.Join("out", "compare"), "report directory: report.md, report.json and runs/")
	output := fs.String("o", "text", "what to print: text (the Markdown table) or json")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	stNames := splitList(*strategies, models.Names())
	scNames := splitList(*scenarios, workloads.Names())
	seedList, err := parseSeeds(*seeds)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim compare: --seeds: %v\n", err)
		return exitUsage
	}
	if *jobs < 1 {
		fmt.Fprintf(stderr, "ctrlsim compare: --jobs must be at least 1, not %d\n", *jobs)
		return exitUsage
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "ctrlsim compare: -o must be text or json, not %q\n", *output)
		return exitUsage
	}
	strats := make([]models.Strategy, len(stNames))
	for i, n := range stNames {
		if strats[i], err = models.Lookup(n); err != nil {
			fmt.Fprintf(stderr, "ctrlsim compare: --strategies: %v\n", err)
			return exitUsage
		}
	}
	for _, n := range scNames {
		if _, err := workloads.Lookup(n); err != nil {
			fmt.Fprintf(stderr, "ctrlsim compare: --scenarios: %v\n", err)
			return exitUsage
		}
	}

	type job struct {
		scenario string
		strategy models.Strategy
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
	errs := make([]error, len(todo))
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
						dir := filepath.Join(tmp, "runs", j.scenario, j.strategy.Name, "seed-"+strconv.FormatUint(j.seed, 10))
						err = res.WriteDir(dir)
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
			return exitFail
		}
	}

	cmp := reports.Compare(stNames, scNames, seedList, summaries)
	if err := writeFile(filepath.Join(tmp, "report.md"), func(w io.Writer) error {
		fmt.Fprintf(w, "# ctrlsim comparison\n\nStrategies %s over scenarios %s, seeds %s.\n\n",
			strings.Join(stNames, ", "), strings.Join(scNames, ", "), *seeds)
		return cmp.WriteMarkdown(w)
	}); err != nil {
		fmt.Fprintf(stderr, "ctrlsim compare: %v\n", err)
		return exitFail
	}
	if err := writeFile(filepath.Join(tmp, "report.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(cmp)
	}); err != nil {
		fmt.Fprintf(stderr, "ctrlsim compare: %v\n", err)
		return exitFail
	}
	if err := os.RemoveAll(*out); err != nil {
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
		fmt.Fprintf(stdout, "\nwrote %s (report.md, report.json, runs/)\n", *out)
	}
	for _, r := range cmp.Rows {
		if r.Failed > 0 {
			return exitFail
		}
	}
	return exitOK
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
