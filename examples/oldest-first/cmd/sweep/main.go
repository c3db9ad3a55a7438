// Command sweep runs a chaos sweep of the oldest-first example controller
// against ctrlsim's built-in strategies and writes a comparison report:
//
//	go run ./cmd/sweep -seeds 20 -out out/sweep
//
// Every rs-* catalog scenario runs under each strategy for each seed, each
// seed with its own random fault plan. DIR gets report.md (the comparison
// and the runs that did not pass, each with its replay command),
// report.json, results.jsonl and failures/ (a run directory per failure).
//
// One run, again (a failure from the report):
//
//	go run ./cmd/sweep -replay -scenario rs-chaos-stale-cache -strategy upstream -seed 8 -out out/replay
//
// Exit codes, as ctrlsim chaos: 0 every run passed, 1 a run failed, 2 bad
// flags, 3 a run could not conclude; -exit-zero makes failures exit 0.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	oldestfirst "github.com/ctrlsim/ctrlsim/examples/oldest-first"
	"github.com/ctrlsim/ctrlsim/examples/oldest-first/chaos"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

const (
	exitOK      = 0
	exitFail    = 1
	exitUsage   = 2
	exitUnknown = 3
)

func main() { os.Exit(sweep(os.Args[1:], os.Stdout, os.Stderr)) }

// rsScenarios are the catalog's ReplicaSet scenarios.
func rsScenarios() []string {
	var out []string
	for _, n := range workloads.Names() {
		if strings.HasPrefix(n, "rs-") {
			out = append(out, n)
		}
	}
	return out
}

func sweep(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "out/sweep", "directory for the report")
	seeds := fs.String("seeds", "20", "a count N (seeds 1…N) or a range FROM-TO")
	scenarios := fs.String("scenarios", strings.Join(rsScenarios(), ","), "comma-separated catalog scenarios")
	strategies := fs.String("strategies", oldestfirst.StrategyName+",oldest-first,upstream", "comma-separated strategies, the first compared against the others")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "runs in parallel (the results do not depend on it)")
	calm := fs.Bool("calm", false, "no random fault plans: the scenarios as written")
	exitZero := fs.Bool("exit-zero", false, "exit 0 even when runs failed")
	replay := fs.Bool("replay", false, "run one scenario (-scenario), strategy (-strategy) and seed (-seed) and write its run directory to -out")
	scenario := fs.String("scenario", "", "with -replay: the scenario")
	strategy := fs.String("strategy", oldestfirst.StrategyName, "with -replay: the strategy")
	seed := fs.Uint64("seed", 1, "with -replay: the seed")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sweep: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if *replay {
		return replayOne(*scenario, *strategy, *seed, *calm, *out, stdout, stderr)
	}
	cfg := chaos.Config{Scenarios: split(*scenarios), Jobs: *jobs, Calm: *calm}
	var err error
	if cfg.Seeds, err = parseSeeds(*seeds); err != nil {
		fmt.Fprintf(stderr, "sweep: -seeds: %v\n", err)
		return exitUsage
	}
	for _, name := range split(*strategies) {
		st, err := models.Lookup(name)
		if err != nil {
			fmt.Fprintf(stderr, "sweep: -strategies: %v\n", err)
			return exitUsage
		}
		cfg.Strategies = append(cfg.Strategies, st)
	}
	if len(cfg.Scenarios) == 0 || len(cfg.Strategies) == 0 || *jobs < 1 {
		fmt.Fprintf(stderr, "sweep: need at least one scenario and one strategy, and -jobs ≥ 1\n")
		return exitUsage
	}
	for _, name := range cfg.Scenarios {
		if _, err := workloads.Lookup(name); err != nil {
			fmt.Fprintf(stderr, "sweep: -scenarios: %v\n", err)
			return exitUsage
		}
	}
	res, err := chaos.Run(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitFail
	}
	if err := res.Write(*out); err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitFail
	}
	failed, unknown := res.Counts()
	for _, o := range res.Outcomes {
		if o.Verdict != run.Pass {
			check, _, _ := strings.Cut(o.Failure, ": ") // "check steps: <step>": the message names the step
			fmt.Fprintf(stdout, "%s %s/%s seed %d: %s: %s\n  replay: %s\n", strings.ToUpper(o.Verdict), o.Scenario, o.Strategy, o.Seed,
				check, o.Message, o.Replay)
		}
	}
	fmt.Fprintf(stdout, "%d runs, %d failed, %d unknown; wrote %s (report.md, report.json, results.jsonl, failures/)\n",
		len(res.Outcomes), failed, unknown, *out)
	switch {
	case *exitZero:
		return exitOK
	case failed > 0:
		return exitFail
	case unknown > 0:
		return exitUnknown
	}
	return exitOK
}

// replayOne runs one scenario, strategy and seed with the seed's random
// plan, exactly as the sweep did, and writes its run directory.
func replayOne(scenario, strategy string, seed uint64, calm bool, out string, stdout, stderr io.Writer) int {
	st, err := models.Lookup(strategy)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: -strategy: %v\n", err)
		return exitUsage
	}
	sc, err := chaos.Scenario(scenario, seed, calm)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: -scenario: %v\n", err)
		return exitUsage
	}
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: seed})
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitFail
	}
	s := &res.Summary
	s.Replay = chaos.DefaultReplay(calm)(scenario, strategy, seed)
	if err := res.WriteDir(out); err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "%s  scenario=%s strategy=%s seed=%d\n", strings.ToUpper(s.Verdict), s.Scenario, s.Strategy, s.Seed)
	for _, c := range s.Checks {
		fmt.Fprintf(stdout, "  check %-16s %s  %s\n", c.Check, c.Verdict, c.Message)
	}
	for _, f := range s.Failures {
		fmt.Fprintf(stdout, "  controller failure: %s\n", f.Error())
	}
	for _, f := range sc.Faults {
		fmt.Fprintf(stdout, "  fault %s\n", f)
	}
	fmt.Fprintf(stdout, "  digest %s\n  wrote %s\n", s.Digest, out)
	switch s.Verdict {
	case run.Pass:
		return exitOK
	case run.Unknown:
		return exitUnknown
	}
	return exitFail
}

func split(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// parseSeeds reads N (1…N) or FROM-TO.
func parseSeeds(s string) ([]uint64, error) {
	from, to := uint64(1), uint64(0)
	var err error
	if a, b, ok := strings.Cut(s, "-"); ok {
		if from, err = strconv.ParseUint(a, 10, 64); err == nil {
			to, err = strconv.ParseUint(b, 10, 64)
		}
	} else {
		to, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil || to < from || to-from >= 100_000 {
		return nil, fmt.Errorf("%q is not a count N or a range FROM-TO (at most 100,000 seeds)", s)
	}
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out, nil
}
