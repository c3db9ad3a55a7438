package ctrlsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/spf13/cobra"
)

// DiffConfig is a differential sweep: the same scenarios, seeds and random
// fault plans (as a chaos sweep draws them) under two strategies, typically
// a model and upstream's own code for the same kinds.
type DiffConfig struct {
	A, B      plugin.Strategy
	Scenarios []string // none: every one both can run, heavy ones left out
	Seeds     []uint64
	// NoFaults runs the scenarios as written, without a random plan.
	NoFaults bool
	Jobs     int
	// Out, if set, gets diff.json (the DiffResult).
	Out      string
	Progress io.Writer
}

// DiffRun is one scenario and seed under both strategies. The runs agree
// when they decide alike: the same verdict, the same number of pods created
// by the strategies' controllers, and the same pods deleted by them (pods
// named by their generateName prefix and creation order, "web-#3", so that
// random name suffixes do not count).
type DiffRun struct {
	Scenario string   `json:"scenario"`
	Seed     uint64   `json:"seed"`
	Faults   []string `json:"faults"`
	A        DiffSide `json:"a"`
	B        DiffSide `json:"b"`
	Agree    bool     `json:"agree"`
	// Differences say how they disagree, one line each.
	Differences []string `json:"differences,omitempty"`
}

// DiffSide is what one strategy decided in a DiffRun.
type DiffSide struct {
	Verdict   string   `json:"verdict"`
	Signature string   `json:"signature,omitempty"`
	Created   int      `json:"created"`
	Deleted   []string `json:"deleted"`
	Digest    string   `json:"digest"`
	Replay    string   `json:"replay"`
}

// DiffResult is a differential sweep's outcome.
type DiffResult struct {
	A             string    `json:"a"`
	B             string    `json:"b"`
	Runs          []DiffRun `json:"runs"`
	Disagreements int       `json:"disagreements"`
}

// Diff runs a differential sweep.
func Diff(ctx context.Context, cfg DiffConfig) (*DiffResult, error) {
	if cfg.Jobs < 1 {
		cfg.Jobs = runtime.GOMAXPROCS(0)
	}
	if len(cfg.Seeds) == 0 {
		return nil, badInput(fmt.Errorf("no seeds"))
	}
	strats := []plugin.Strategy{cfg.A, cfg.B}
	scNames, _, err := selectScenarios(cfg.Scenarios, strats, cfg.Seeds[0])
	if err != nil {
		return nil, badInput(err)
	}
	if len(scNames) == 0 {
		return nil, badInput(fmt.Errorf("no built-in scenario can run with strategies %s and %s: name scenarios", cfg.A.Name, cfg.B.Name))
	}
	type job struct {
		scenario string
		seed     uint64
	}
	var todo []job
	for _, sc := range scNames {
		for _, seed := range cfg.Seeds {
			todo = append(todo, job{sc, seed})
		}
	}
	runs := make([]DiffRun, len(todo))
	errs := make([]error, len(todo))
	forEachJob(ctx, len(todo), cfg.Jobs, func(i int) {
		runs[i], errs[i] = diffOne(cfg, todo[i].scenario, todo[i].seed)
	}, func(i, done int) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "diff: %d/%d %s seed %d: %s\n", done, len(todo), todo[i].scenario, todo[i].seed, agreeWord(runs[i].Agree))
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &DiffResult{A: cfg.A.Name, B: cfg.B.Name}
	for i, r := range runs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		res.Runs = append(res.Runs, r)
		if !r.Agree {
			res.Disagreements++
		}
	}
	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := writeFile(filepath.Join(cfg.Out, "diff.json"), func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func agreeWord(ok bool) string {
	if ok {
		return "agree"
	}
	return "DISAGREE"
}

func diffOne(cfg DiffConfig, scenario string, seed uint64) (DiffRun, error) {
	sc, err := ChaosScenario(scenario, seed)
	if cfg.NoFaults {
		sc, err = workloads.Lookup(scenario)
	}
	if err != nil {
		return DiffRun{}, err
	}
	r := DiffRun{Scenario: scenario, Seed: seed, Faults: []string{}}
	for _, f := range sc.Faults {
		r.Faults = append(r.Faults, f.String())
	}
	for i, st := range []plugin.Strategy{cfg.A, cfg.B} {
		res, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: st, Seed: seed})
		if err != nil {
			return DiffRun{}, fmt.Errorf("%s/%s seed %d: %w", scenario, st.Name, seed, err)
		}
		side := decisions(res, st)
		side.Replay = fmt.Sprintf("ctrlsim run --scenario %s --strategy %s --seed %d", scenario, st.Name, seed)
		if !cfg.NoFaults {
			side.Replay += " --random-faults"
		}
		if i == 0 {
			r.A = side
		} else {
			r.B = side
		}
	}
	if r.A.Verdict != r.B.Verdict || r.A.Signature != r.B.Signature {
		r.Differences = append(r.Differences, fmt.Sprintf("verdict: %s %q vs %s %q", r.A.Verdict, r.A.Signature, r.B.Verdict, r.B.Signature))
	}
	if r.A.Created != r.B.Created {
		r.Differences = append(r.Differences, fmt.Sprintf("pods created: %d vs %d", r.A.Created, r.B.Created))
	}
	if !slices.Equal(r.A.Deleted, r.B.Deleted) {
		r.Differences = append(r.Differences, fmt.Sprintf("pods deleted: %s vs %s", strings.Join(r.A.Deleted, ","), strings.Join(r.B.Deleted, ",")))
	}
	r.Agree = len(r.Differences) == 0
	return r, nil
}

// decisions reads what the strategy's controllers decided from the history.
func decisions(res *simrun.Result, st plugin.Strategy) DiffSide {
	s := DiffSide{Verdict: res.Summary.Verdict, Digest: res.Summary.Digest, Deleted: []string{}}
	if s.Verdict != simrun.Pass {
		s.Signature = res.Summary.Signature()
	}
	mine := func(client string) bool {
		name, _, _ := strings.Cut(client, "#")
		_, ok := st.Controller(name)
		return ok
	}
	ordinal := map[string]string{} // pod key → prefix-#n
	count := map[string]int{}
	for _, op := range res.History {
		if op.Kind != "Pod" || !succeeded(op) {
			continue
		}
		switch op.Verb {
		case "create":
			if op.Subresource != "" {
				continue
			}
			prefix := generatePrefix(op.Key)
			count[prefix]++
			ordinal[op.Key] = fmt.Sprintf("%s#%d", prefix, count[prefix])
			if mine(op.Client) {
				s.Created++
			}
		case "delete":
			if mine(op.Client) {
				name := ordinal[op.Key]
				if name == "" {
					name = op.Key
				}
				s.Deleted = append(s.Deleted, name)
			}
		}
	}
	slices.Sort(s.Deleted)
	return s
}

func succeeded(op *history.Op) bool { return op.Code >= 200 && op.Code < 300 }

// generatePrefix is a generated name's generateName ("web-" of "web-x7k2p"):
// the API server adds five characters.
func generatePrefix(key string) string {
	i := strings.LastIndexByte(key, '-')
	if i < 0 || len(key)-i-1 != 5 {
		return key
	}
	return key[:i+1]
}

// WriteText writes the sweep's disagreements and counts for a person.
func (r *DiffResult) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tSEED\t%s\t%s\tDIFFERENCE\n", r.A, r.B)
	for _, run := range r.Runs {
		if run.Agree {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", run.Scenario, run.Seed, run.A.Verdict, run.B.Verdict, strings.Join(run.Differences, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d runs, %d disagreements (%s vs %s)\n", len(r.Runs), r.Disagreements, r.A, r.B)
	return err
}

func newDiffCmd(set *strategySet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff --strategies A,B [flags]",
		Short: "Run the same scenarios, seeds and fault plans under two strategies and compare their decisions",
		Example: `  ctrlsim diff --strategies upstream,kcm --seeds 20 --out out/diff
  ctrlsim diff --strategies upstream,kcm-replicaset --scenarios rs-scale-down-deletion-cost --seeds 5 --no-faults`,
		Args: noArgs,
	}
	f := cmd.Flags()
	sel := addSelectionFlags(cmd, set, "upstream", "two comma-separated strategies: the model, then the other",
		"20", "seeds: a count N (1…N) or a range FROM-TO; each seed draws its own fault plan")
	noFaults := f.Bool("no-faults", false, "run the scenarios as written, without random fault plans")
	out := f.String("out", "", "directory for diff.json")
	exitZero := f.Bool("exit-zero", false, "exit 0 even when the strategies disagreed")
	output := outputFlag(cmd, "what to print: text (the disagreements and counts) or json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(cmd, *output); err != nil {
			return err
		}
		strats, scNames, seedList, err := sel.resolve(cmd, "no scenario to run")
		if err != nil {
			return err
		}
		if len(strats) != 2 {
			return usagef(cmd, "--strategies takes two strategies, not %d", len(strats))
		}
		res, err := Diff(cmd.Context(), DiffConfig{A: strats[0], B: strats[1], Scenarios: scNames, Seeds: seedList,
			NoFaults: *noFaults, Jobs: *sel.jobs, Out: *out, Progress: cmd.ErrOrStderr()})
		if err != nil {
			return errorOf(cmd, err)
		}
		if *output == "json" {
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(res); err != nil {
				return failf(cmd, "%v", err)
			}
		} else if err := res.WriteText(cmd.OutOrStdout()); err != nil {
			return failf(cmd, "%v", err)
		}
		if *exitZero || res.Disagreements == 0 {
			return nil
		}
		return exit(ExitFail)
	}
	return cmd
}
