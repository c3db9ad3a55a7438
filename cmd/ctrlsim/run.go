package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	simrun "github.com/ctrlsim/ctrlsim/harness/run"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/workloads"
)

func init() {
	register(command{name: "run", summary: "run one scenario with one strategy and seed", run: runRun})
	register(command{name: "scenarios", summary: "list the built-in scenarios", run: runScenarios})
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", "--scenario NAME [--strategy NAME] [--seed N] [--out DIR] [-o text|json]", stderr)
	scenario := fs.String("scenario", "", "built-in scenario name (see ctrlsim scenarios)")
	strategy := fs.String("strategy", "upstream", "controller strategy (see ctrlsim strategies)")
	seed := fs.Uint64("seed", 1, "root seed: the same seed replays the same run")
	out := fs.String("out", "", "run directory for summary.json, history.jsonl and decisions.jsonl (default out/<scenario>/<strategy>/seed-<N>)")
	output := fs.String("o", "text", "what to print: text or json (the summary)")
	allowUnknown := fs.Bool("allow-unknown", false, "exit 0 when a check could not conclude")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *scenario == "" {
		fmt.Fprintln(stderr, "ctrlsim run: --scenario is required (see ctrlsim scenarios)")
		return exitUsage
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "ctrlsim run: -o must be text or json, not %q\n", *output)
		return exitUsage
	}
	sc, err := workloads.Lookup(*scenario)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim run: %v\n", err)
		return exitUsage
	}
	strat, err := models.Lookup(*strategy)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim run: %v\n", err)
		return exitUsage
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("out", sc.Name, strat.Name, "seed-"+strconv.FormatUint(*seed, 10))
	}
	res, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: strat, Seed: *seed})
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim run: %v\n", err)
		return exitUsage
	}
	if err := res.WriteDir(dir); err != nil {
		fmt.Fprintf(stderr, "ctrlsim run: writing %s: %v\n", dir, err)
		return exitFail
	}
	s := res.Summary
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(s)
	} else {
		printSummary(stdout, &s, dir)
	}
	switch s.Verdict {
	case simrun.Pass:
		return exitOK
	case simrun.Unknown:
		if *allowUnknown {
			return exitOK
		}
		return exitUnknown
	}
	return exitFail
}

func printSummary(w io.Writer, s *simrun.Summary, dir string) {
	fmt.Fprintf(w, "%s  scenario=%s strategy=%s seed=%d\n", verdictWord(s.Verdict), s.Scenario, s.Strategy, s.Seed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range s.Checks {
		line := fmt.Sprintf("  check %s\t%s", c.Check, c.Verdict)
		if c.Message != "" {
			line += "\t" + c.Message
			if c.At != "" {
				line += " (at " + c.At + ")"
			}
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  controller failure: %s\n", f.Error())
	}
	for _, st := range s.Steps {
		if st.Error != "" {
			fmt.Fprintf(w, "  step failed: %s: %s\n", st.Step, st.Error)
		}
	}
	if s.ConvergenceLatency != "" {
		fmt.Fprintf(w, "  converged %s after the last step\n", s.ConvergenceLatency)
	}
	fmt.Fprintf(w, "  %s virtual, %d events, pods created %d deleted %d, %d scale-down decisions\n",
		s.VirtualTime, s.Events, s.PodsCreated, s.PodsDeleted, s.Decisions)
	fmt.Fprintf(w, "  requests %v\n", s.SortedRequests())
	fmt.Fprintf(w, "  digest %s\n", s.Digest)
	fmt.Fprintf(w, "  wrote %s\n", dir)
	fmt.Fprintf(w, "  replay: %s\n", s.Replay)
}

func verdictWord(v string) string {
	switch v {
	case simrun.Pass:
		return "PASS"
	case simrun.Fail:
		return "FAIL"
	case simrun.Runaway:
		return "RUNAWAY"
	}
	return "UNKNOWN"
}

func runScenarios(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("scenarios", "[-o text|json]", stderr)
	output := fs.String("o", "text", "output format: text or json")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	var rows []listRow
	for _, n := range workloads.Names() {
		sc, err := workloads.Lookup(n)
		if err != nil {
			fmt.Fprintf(stderr, "ctrlsim scenarios: %v\n", err)
			return exitFail
		}
		rows = append(rows, listRow{sc.Name, sc.Summary})
	}
	return printList(stdout, stderr, "scenarios", *output, rows)
}
