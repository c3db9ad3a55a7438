package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/reports"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/models"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

func init() {
	register(command{name: "run", summary: "run one scenario with one strategy and seed", run: runRun})
	register(command{name: "scenarios", summary: "list the built-in scenarios", run: runScenarios})
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", "--scenario NAME|FILE [--strategy NAME] [--seed N] [--faults FILE] [--random-faults] [--out DIR] [-o text|json]", stderr)
	scenario := fs.String("scenario", "", "built-in scenario name (see ctrlsim scenarios), or a scenario file (path/to/file.yaml)")
	strategy := fs.String("strategy", "upstream", "controller strategy (see ctrlsim strategies)")
	seed := fs.Uint64("seed", 1, "root seed: the same seed replays the same run")
	out := fs.String("out", "", "run directory for summary.json, history.jsonl and decisions.jsonl (default out/<scenario>/<strategy>/seed-<N>)")
	output := fs.String("o", "text", "what to print: text or json (the summary)")
	allowUnknown := fs.Bool("allow-unknown", false, "exit 0 when a check could not conclude")
	faultsFile := fs.String("faults", "", "a fault plan file (a list of faults) to add to the scenario's faults: (see ctrlsim faults)")
	randomFaults := fs.Bool("random-faults", false, "add a random fault plan drawn from the seed (swarm testing); the run directory's scenario.yaml keeps it")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *scenario == "" {
		fmt.Fprintln(stderr, "ctrlsim run: --scenario is required (see ctrlsim scenarios)")
		return exitUsage
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "ctrlsim run: -o must be text or json, not %q\n", *output)
		return exitUsage
	}
	sc, err := loadScenario(*scenario)
	if err != nil {
		var errs workloads.Errors
		if errors.As(err, &errs) {
			// One line each, file:line first, as compilers print them.
			fmt.Fprintln(stderr, errs.Error())
			fmt.Fprintf(stderr, "ctrlsim run: %s is invalid; nothing was run\n", *scenario)
		} else {
			fmt.Fprintf(stderr, "ctrlsim run: %v\n", err)
		}
		return exitUsage
	}
	// A scenario's run: key (a repro.yaml) gives the strategy and seed,
	// unless the flags say otherwise.
	if !set["strategy"] && sc.Run.Strategy != "" {
		*strategy = sc.Run.Strategy
	}
	if !set["seed"] && sc.Run.Seed != nil {
		*seed = *sc.Run.Seed
	}
	strat, err := models.Lookup(*strategy)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim run: %v\n", err)
		return exitUsage
	}
	if *faultsFile != "" {
		plan, err := workloads.LoadFaults(*faultsFile, sc)
		if err != nil {
			fmt.Fprintln(stderr, err)
			fmt.Fprintf(stderr, "ctrlsim run: %s is invalid; nothing was run\n", *faultsFile)
			return exitUsage
		}
		sc.Faults = append(sc.Faults, plan...)
	}
	if *randomFaults {
		sc.Faults = append(sc.Faults, faults.Random(*seed, sc.FaultScope())...)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("out", sc.Name, strat.Name, "seed-"+strconv.FormatUint(*seed, 10))
	}
	replay := ""
	switch {
	case *faultsFile != "" || *randomFaults:
		// The plan is not in the scenario file: the run directory has it.
		replay = "ctrlsim replay " + shellQuote(dir)
	case sc.Source != "":
		// A scenario from a file replays from that file, not from the catalog.
		replay = fmt.Sprintf("ctrlsim run --scenario %s --strategy %s --seed %d", shellQuote(sc.Source), strat.Name, *seed)
	}
	return execute("run", sc, strat, *seed, dir, replay, *output, *allowUnknown, stdout, stderr)
}

// execute runs a scenario, writes its run directory and prints its summary;
// its exit code says how it went.
// replay, when not "", is the command that replays it.
func execute(cmd string, sc *workloads.Scenario, strat plugin.Strategy, seed uint64, dir, replay, output string, allowUnknown bool, stdout, stderr io.Writer) int {
	res, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: strat, Seed: seed})
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim %s: %v\n", cmd, err)
		return exitUsage
	}
	if replay != "" {
		res.Summary.Replay = replay
	}
	plots, err := runPlots(res)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim %s: %v\n", cmd, err)
		return exitFail
	}
	if err := res.WriteDir(dir, plots...); err != nil {
		fmt.Fprintf(stderr, "ctrlsim %s: writing %s: %v\n", cmd, dir, err)
		return exitFail
	}
	s := res.Summary
	if output == "json" {
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
		if allowUnknown {
			return exitOK
		}
		return exitUnknown
	}
	return exitFail
}

// loadScenario resolves --scenario: a file if the value looks like one (it
// has a "/" or ends in .yaml or .yml) and exists, else a built-in scenario.
func loadScenario(arg string) (*workloads.Scenario, error) {
	looksLikeFile := strings.ContainsRune(arg, '/') || strings.ContainsRune(arg, filepath.Separator) ||
		strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
	if looksLikeFile {
		if _, err := os.Stat(arg); err == nil {
			return workloads.LoadScenario(arg)
		}
		if sc, err := workloads.Lookup(arg); err == nil {
			return sc, nil
		}
		return nil, fmt.Errorf("no scenario file %s, and no built-in scenario of that name (built-in: %s)", arg, strings.Join(workloads.Names(), ", "))
	}
	return workloads.Lookup(arg)
}

// shellQuote quotes a path for a command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
	for _, f := range s.Faults {
		line := fmt.Sprintf("  fault %s: %s", f.Fault, f.Started)
		if f.Healed != "" && f.Healed != f.Started {
			line += " – " + f.Healed
		}
		if f.Touched != "" {
			line += " " + f.Touched
		}
		if f.Error != "" {
			line += " (did not act: " + f.Error + ")"
		}
		fmt.Fprintln(w, line)
	}
	if s.ConvergenceLatency != "" {
		fmt.Fprintf(w, "  converged %s after the last disturbance\n", s.ConvergenceLatency)
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
	// Heavy scenarios (ctrlsim compare runs them only when named) say so:
	// "(heavy)" after the summary, "heavy": true in JSON.
	type scenarioRow struct {
		Name    string `json:"name"`
		Summary string `json:"summary"`
		Heavy   bool   `json:"heavy"`
	}
	var rows []listRow
	var jsonRows []scenarioRow
	for _, n := range workloads.Names() {
		sc, err := workloads.Lookup(n)
		if err != nil {
			fmt.Fprintf(stderr, "ctrlsim scenarios: %v\n", err)
			return exitFail
		}
		summary := sc.Summary
		if sc.Heavy {
			summary += " (heavy)"
		}
		rows = append(rows, listRow{sc.Name, summary})
		jsonRows = append(jsonRows, scenarioRow{sc.Name, sc.Summary, sc.Heavy})
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(jsonRows); err != nil {
			return exitFail
		}
		return exitOK
	}
	return printList(stdout, stderr, "scenarios", *output, rows)
}

// runPlots draws the run's replicas over time (replicas.svg and .png).
func runPlots(res *simrun.Result) ([]simrun.File, error) {
	if len(res.Replicas) == 0 {
		return nil, nil
	}
	s := res.Summary
	end, _ := time.ParseDuration(s.VirtualTime)
	p, err := reports.ReplicasPlot(fmt.Sprintf("%s · %s · seed %d", s.Scenario, s.Strategy, s.Seed), res.Replicas, end,
		reports.FaultWindows(s.Faults, end)...)
	if err != nil {
		return nil, err
	}
	var files []simrun.File
	for _, format := range []string{"svg", "png"} {
		data, err := reports.Render(p, format)
		if err != nil {
			return nil, err
		}
		files = append(files, simrun.File{Name: "replicas." + format, Data: data})
	}
	return files, nil
}
