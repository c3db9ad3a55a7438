package ctrlsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/reports"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// Figures says which figures Compare draws of each strategy's first-seed
// run on each scenario (figures/): the latency CDFs are always drawn.
type Figures int

const (
	FiguresSVGAndPNG Figures = iota // SVG and PNG (the default)
	FiguresSVG                      // SVG only: faster
	FiguresNone                     // no figures of runs
)

// CompareConfig is a comparison: every scenario × strategy × seed, the
// scenarios as written (no random faults).
type CompareConfig struct {
	Strategies []plugin.Strategy
	// Scenarios are built-in scenarios; none: every one all the strategies
	// can run, heavy ones left out (DefaultScenarios).
	Scenarios []string
	Seeds     []uint64
	// Jobs is how many runs go at once (default GOMAXPROCS). The report
	// does not depend on it.
	Jobs    int
	Figures Figures
	// Out is the report's directory: report.md, report.html, report.json,
	// cdf-<scenario>.svg/.png, figures/ and runs/ (every run's directory).
	// It is written to a temporary sibling and renamed into place.
	Out string
	// Progress, if set, gets a line of progress as the runs finish.
	Progress io.Writer
}

// Compare runs a comparison, writes its report directory (cfg.Out) and
// returns the comparison. An error of type *BadInputError means nothing
// ran; a cancelled ctx stops it between runs and leaves cfg.Out as it was.
func Compare(ctx context.Context, cfg CompareConfig) (*reports.Comparison, error) {
	if cfg.Jobs < 1 {
		cfg.Jobs = runtime.GOMAXPROCS(0)
	}
	if err := checkSweep(cfg.Out, cfg.Strategies, cfg.Seeds); err != nil {
		return nil, err
	}
	drawRuns, withPNG := cfg.Figures != FiguresNone, cfg.Figures == FiguresSVGAndPNG
	stNames := strategyNames(cfg.Strategies)
	scNames, _, err := selectScenarios(cfg.Scenarios, cfg.Strategies, cfg.Seeds[0])
	if err != nil {
		return nil, badInput(err)
	}
	if len(scNames) == 0 {
		return nil, badInput(fmt.Errorf("no built-in scenario can run with strategies %s: name scenarios", strings.Join(stNames, ", ")))
	}
	type job struct {
		scenario string
		strategy plugin.Strategy
		seed     uint64
	}
	var todo []job
	for _, sc := range scNames {
		for _, st := range cfg.Strategies {
			for _, seed := range cfg.Seeds {
				todo = append(todo, job{sc, st, seed})
			}
		}
	}
	tmp, err := makeTempSibling(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	summaries := make([]simrun.Summary, len(todo))
	figures := make([]*reports.RunFigures, len(todo))
	errs := make([]error, len(todo))
	forEachJob(ctx, len(todo), cfg.Jobs, func(i int) {
		j := todo[i]
		sc, err := workloads.Lookup(j.scenario)
		if err == nil {
			var res *simrun.Result
			if res, err = simrun.Run(simrun.Config{Scenario: sc, Strategy: j.strategy, Seed: j.seed}); err == nil {
				summaries[i] = res.Summary
				err = res.WriteDir(filepath.Join(tmp, filepath.FromSlash(reports.RunDir(j.scenario, j.strategy.Name, j.seed))))
				if err == nil && drawRuns && j.seed == cfg.Seeds[0] {
					// The pair's representative run: its figures.
					figures[i], err = reports.DrawRun(res, withPNG)
				}
			} else {
				err = badInput(err) // the run could not start
			}
		} else {
			err = badInput(err)
		}
		errs[i] = err
	}, func(_, done int) {
		if cfg.Progress != nil {
			progress(cfg.Progress, done, len(todo))
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			e := fmt.Errorf("%s/%s seed %d: %w", todo[i].scenario, todo[i].strategy.Name, todo[i].seed, err)
			var b *BadInputError
			if errors.As(err, &b) {
				return nil, &BadInputError{e}
			}
			return nil, e
		}
	}
	cmp := reports.Compare(stNames, scNames, cfg.Seeds, summaries)
	rep := reports.Report{Comparison: cmp, Summaries: summaries, Runs: figures}
	if err := rep.WriteDir(tmp); err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, cfg.Out); err != nil {
		return nil, err
	}
	return cmp, nil
}

func newCompareCmd(set *strategySet) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "compare [flags]",
		Short:   "Compare strategies over scenarios and seeds (Markdown, HTML and JSON report with figures)",
		Example: `  ctrlsim compare --strategies upstream,naive --scenarios rc-scale --seeds 1-20 --jobs 2 --out out/compare`,
		Args:    noArgs,
	}
	f := cmd.Flags()
	sel := addSelectionFlags(cmd, set, "", "comma-separated strategies (default: all, see ctrlsim strategies)",
		"3", "seeds: a count N (1…N) or a range FROM-TO")
	out := f.String("out", filepath.Join("out", "compare"), "report directory: report.md, report.html, report.json, cdf-<scenario>.svg/.png, figures/ (the first seed's runs drawn) and runs/")
	output := outputFlag(cmd, "what to print: text (the Markdown table) or json")
	exitZero := f.Bool("exit-zero", false, "exit 0 even when runs failed (the report lists them): for make report, whose point is to show the strategies that fail")
	figureFormats := f.String("figures", "svg,png", "how to draw the first seed's run of each strategy on each scenario (figures/): svg,png; svg (faster: no PNG); or none (no figures of runs; the latency CDFs are always drawn)")
	cmd.RegisterFlagCompletionFunc("figures", cobra.FixedCompletions([]string{"svg,png", "svg", "none"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var figs Figures
		switch *figureFormats {
		case "svg,png", "png,svg":
			figs = FiguresSVGAndPNG
		case "svg":
			figs = FiguresSVG
		case "none":
			figs = FiguresNone
		default:
			return usagef(cmd, "--figures must be svg,png, svg or none, not %q", *figureFormats)
		}
		if err := checkOutput(cmd, *output); err != nil {
			return err
		}
		strats, scNames, seedList, err := sel.resolve(cmd, "no built-in scenario can run with these strategies: name scenarios with --scenarios")
		if err != nil {
			return err
		}
		cmp, err := Compare(cmd.Context(), CompareConfig{Strategies: strats, Scenarios: scNames, Seeds: seedList, Jobs: *sel.jobs,
			Figures: figs, Out: *out, Progress: cmd.ErrOrStderr()})
		if err != nil {
			return errorOf(cmd, err)
		}
		stdout := cmd.OutOrStdout()
		if *output == "json" {
			if err := writeJSON(stdout, cmp); err != nil {
				return failf(cmd, "%v", err)
			}
		} else {
			cmp.WriteMarkdown(stdout)
			fmt.Fprintf(stdout, "\nwrote %s (report.md, report.html, report.json, cdf-<scenario>.svg/.png, figures/, runs/)\n", *out)
		}
		for _, r := range cmp.Rows {
			if r.Failed > 0 && !*exitZero {
				return exit(ExitFail)
			}
		}
		return nil
	}
	return cmd
}

// checkSweep rejects a sweep (chaos or compare) with nowhere to write or
// nothing to run.
func checkSweep(out string, strategies []plugin.Strategy, seeds []uint64) error {
	switch {
	case out == "":
		return badInput(errors.New("no output directory (Out)"))
	case len(strategies) == 0:
		return badInput(errors.New("no strategy"))
	case len(seeds) == 0:
		return badInput(errors.New("no seed"))
	}
	return nil
}

// strategyNames are the names of sts, in order.
func strategyNames(sts []plugin.Strategy) []string {
	names := make([]string, len(sts))
	for i, st := range sts {
		names[i] = st.Name
	}
	return names
}

// DefaultScenarios are the built-in scenarios that every one of strats can
// run: left out are those an object of which needs a controller some
// strategy does not run, those with a step ctrlsim cannot play yet, and the
// heavy ones. leftOut says which were left out, and why, in one line.
func DefaultScenarios(strats []plugin.Strategy) (names []string, leftOut string, err error) {
	return selectScenarios(nil, strats, 1)
}

// selectScenarios resolves --scenarios (split at commas). Named scenarios must exist, and every
// strategy must be able to run them: if one cannot, the error is the run's own
// (run refuses a scenario whose objects need a controller the strategy
// does not run). The default is every built-in scenario but those that could
// not give every strategy a row of runs: an object of the scenario needs a
// controller some compared strategy does not run, or a step needs what
// ctrlsim does not have yet (workloads.Scenario.Unsupported); and the heavy
// ones. leftOut says which were left out, and why, in one line ("" if none).
func selectScenarios(named []string, strats []plugin.Strategy, seed uint64) (names []string, leftOut string, err error) {
	if len(named) > 0 {
		names = named
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
	if isTerminal(w) {
		fmt.Fprintf(w, "\rctrlsim compare: %d/%d runs", done, total)
		if done == total {
			fmt.Fprintln(w)
		}
		return
	}
	if step := max(total/10, 1); done%step == 0 || done == total {
		fmt.Fprintf(w, "ctrlsim compare: %d/%d runs\n", done, total)
	}
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

// ParseSeeds reads seeds as --seeds takes them: "N" (seeds 1…N) or
// "FROM-TO", at most a million.
func ParseSeeds(s string) ([]uint64, error) {
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

// selectionFlags are the flags that choose a sweep's or a comparison's runs:
// --strategies, --scenarios, --seeds and --jobs.
type selectionFlags struct {
	set                          *strategySet
	strategies, scenarios, seeds *string
	defaultAllStrategies         bool
	jobs                         *int
}

func addSelectionFlags(cmd *cobra.Command, set *strategySet, strategies, strategiesUsage, seeds, seedsUsage string) *selectionFlags {
	f := cmd.Flags()
	sel := &selectionFlags{set: set, defaultAllStrategies: strategies == ""}
	sel.strategies = f.String("strategies", strategies, strategiesUsage)
	sel.scenarios = f.String("scenarios", "", "comma-separated built-in scenarios (default: every one the strategies can run, heavy ones left out; see ctrlsim scenarios)")
	sel.seeds = f.String("seeds", seeds, seedsUsage)
	sel.jobs = f.Int("jobs", runtime.GOMAXPROCS(0), "runs in parallel (the results do not depend on it)")
	cmd.RegisterFlagCompletionFunc("strategies", completeStrategies(set))
	cmd.RegisterFlagCompletionFunc("scenarios", completeList(workloads.Names))
	return sel
}

// resolve reads the flags: the strategies, the scenarios (by default every
// one they can run, saying on stderr which heavy ones are left out) and the
// seeds. none is the error when no scenario is left.
func (sel *selectionFlags) resolve(cmd *cobra.Command, none string) ([]plugin.Strategy, []string, []uint64, error) {
	seeds, err := ParseSeeds(*sel.seeds)
	if err != nil {
		return nil, nil, nil, usagef(cmd, "--seeds: %v", err)
	}
	if err := atLeast(cmd, "jobs", *sel.jobs, 1); err != nil {
		return nil, nil, nil, err
	}
	var all []string
	if sel.defaultAllStrategies {
		all = sel.set.names()
	}
	strats, err := sel.set.lookupAll(splitList(*sel.strategies, all))
	if err != nil {
		return nil, nil, nil, usagef(cmd, "--strategies: %v", err)
	}
	if len(strats) == 0 {
		return nil, nil, nil, usagef(cmd, "--strategies: name at least one strategy")
	}
	scenarios, leftOut, err := selectScenarios(splitList(*sel.scenarios, nil), strats, seeds[0])
	if err != nil {
		return nil, nil, nil, usagef(cmd, "%v", err)
	}
	if leftOut != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: left out of the default scenarios: %s\n", cmd.CommandPath(), leftOut)
	}
	if len(scenarios) == 0 {
		return nil, nil, nil, usagef(cmd, "%s", none)
	}
	return strats, scenarios, seeds, nil
}

// FormatSeeds writes consecutive seeds as ParseSeeds reads them, FROM-TO;
// others as a comma-separated list.
func FormatSeeds(seeds []uint64) string {
	consecutive := len(seeds) > 0
	for i := 1; i < len(seeds); i++ {
		consecutive = consecutive && seeds[i] == seeds[i-1]+1
	}
	if consecutive {
		return fmt.Sprintf("%d-%d", seeds[0], seeds[len(seeds)-1])
	}
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.FormatUint(s, 10)
	}
	return strings.Join(parts, ",")
}
