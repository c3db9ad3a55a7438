package ctrlsim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/reports"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// RunConfig is one run: a scenario, a strategy and a seed, and the run
// directory to write.
type RunConfig struct {
	Scenario *workloads.Scenario
	Strategy plugin.Strategy
	Seed     uint64
	// Out is the run directory: summary.json, history.jsonl,
	// decisions.jsonl, scenario.yaml, replicas.svg and .png (and, when the
	// history is not linearizable, linearizability.html).
	Out string
	// Replay, if not "", is the command that replays the run, for its
	// summary (by default the run's own: ctrlsim run --scenario NAME …).
	Replay string
	// MaxEvents bounds the run (0: the run package's default); past it the
	// run is a runaway, a failure.
	MaxEvents uint64
}

// Run runs one scenario and writes its run directory (into place whole, or
// not at all). An error of type *BadInputError means the run could not
// start (the strategy does not run a controller the scenario needs);
// whatever happens in the run is in the result's Summary.
func Run(cfg RunConfig) (*simrun.Result, error) {
	if cfg.Scenario == nil || cfg.Out == "" {
		return nil, badInput(errors.New("ctrlsim.Run: a scenario and a run directory (Out) are required"))
	}
	res, err := simrun.Run(simrun.Config{Scenario: cfg.Scenario, Strategy: cfg.Strategy, Seed: cfg.Seed, MaxEvents: cfg.MaxEvents})
	if err != nil {
		return nil, badInput(err)
	}
	if cfg.Replay != "" {
		res.Summary.Replay = cfg.Replay
	}
	plots, err := runPlots(res)
	if err != nil {
		return nil, err
	}
	if err := res.WriteDir(cfg.Out, plots...); err != nil {
		return nil, fmt.Errorf("writing %s: %w", cfg.Out, err)
	}
	return res, nil
}

func newRunCmd(set *strategySet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run --scenario NAME|FILE [flags]",
		Short: "Run one scenario with one strategy and seed",
		Example: `  ctrlsim run --scenario rs-scale-down-deletion-cost --strategy upstream --seed 1
  ctrlsim run --scenario my-scenario.yaml --random-faults --seed 7 -o json`,
		Args: noArgs,
	}
	f := cmd.Flags()
	scenario := f.String("scenario", "", "built-in scenario name (see ctrlsim scenarios), or a scenario file (path/to/file.yaml)")
	strategy := f.String("strategy", "upstream", "controller strategy (see ctrlsim strategies)")
	seed := f.Uint64("seed", 1, "root seed: the same seed replays the same run")
	out := f.String("out", "", "run directory for summary.json, history.jsonl and decisions.jsonl (default out/<scenario>/<strategy>/seed-<N>)")
	output := outputFlag(cmd, "what to print: text or json (the summary)")
	allowUnknown := f.Bool("allow-unknown", false, "exit 0 when a check could not conclude")
	faultsFile := f.String("faults", "", "a fault plan file (a list of faults) to add to the scenario's faults: (see ctrlsim faults)")
	randomFaults := f.Bool("random-faults", false, "add a random fault plan drawn from the seed (swarm testing); the run directory's scenario.yaml keeps it")
	cmd.RegisterFlagCompletionFunc("scenario", completeScenarioOrFile)
	cmd.RegisterFlagCompletionFunc("strategy", completeStrategies(set))
	cmd.RegisterFlagCompletionFunc("faults", cobra.FixedCompletions([]string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		stderr := cmd.ErrOrStderr()
		if *scenario == "" {
			return usagef(cmd, "--scenario is required (see ctrlsim scenarios)")
		}
		if err := checkOutput(cmd, *output); err != nil {
			return err
		}
		sc, err := LoadScenario(*scenario)
		if err != nil {
			var errs workloads.Errors
			if errors.As(err, &errs) {
				// One line each, file:line first, as compilers print them.
				fmt.Fprintln(stderr, errs.Error())
				return usagef(cmd, "%s is invalid; nothing was run", *scenario)
			}
			return usagef(cmd, "%v", err)
		}
		// A scenario's run: key (a repro.yaml) gives the strategy and seed,
		// unless the flags say otherwise.
		if !changed(cmd, "strategy") && sc.Run.Strategy != "" {
			*strategy = sc.Run.Strategy
		}
		if !changed(cmd, "seed") && sc.Run.Seed != nil {
			*seed = *sc.Run.Seed
		}
		strat, err := set.lookup(*strategy)
		if err != nil {
			return usagef(cmd, "--strategy: %v", err)
		}
		if *faultsFile != "" {
			plan, err := workloads.LoadFaults(*faultsFile, sc)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return usagef(cmd, "%s is invalid; nothing was run", *faultsFile)
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
		_, err = execute(cmd, RunConfig{Scenario: sc, Strategy: strat, Seed: *seed, Out: dir, Replay: replay}, *output, *allowUnknown)
		return err
	}
	return cmd
}

// execute runs a scenario, writes its run directory and prints its summary;
// the error (an *exitError) carries the exit code.
func execute(cmd *cobra.Command, cfg RunConfig, output string, allowUnknown bool) (*simrun.Result, error) {
	res, err := Run(cfg)
	if err != nil {
		return nil, errorOf(cmd, err)
	}
	s := res.Summary
	if output == "json" {
		if err := writeJSON(cmd.OutOrStdout(), s); err != nil {
			return res, failf(cmd, "%v", err)
		}
	} else {
		printSummary(cmd.OutOrStdout(), &s, cfg.Out)
	}
	return res, exit(verdictCode(s.Verdict, allowUnknown))
}

// verdictCode is the exit code of a run's verdict.
func verdictCode(verdict string, allowUnknown bool) int {
	switch verdict {
	case simrun.Pass:
		return ExitOK
	case simrun.Unknown:
		if allowUnknown {
			return ExitOK
		}
		return ExitUnknown
	}
	return ExitFail
}

func completeScenarioOrFile(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if strings.ContainsAny(toComplete, "/.") {
		return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return workloads.Names(), cobra.ShellCompDirectiveDefault
}

// LoadScenario resolves a --scenario argument: a scenario file if the value
// looks like one (it has a "/" or ends in .yaml or .yml) and exists, else a
// built-in scenario (workloads.Lookup). An invalid file's error is a
// workloads.Errors, one error per problem.
func LoadScenario(arg string) (*workloads.Scenario, error) {
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
