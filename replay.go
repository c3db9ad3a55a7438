package ctrlsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// Recorded is a recorded run: a run directory (its self-contained
// scenario.yaml and its summary.json) or a scenario file whose run: key
// names the strategy and seed (a repro.yaml).
type Recorded struct {
	Path     string              // as given
	Dir      string              // the run directory, or the file's directory
	Scenario *workloads.Scenario // with its fault plan
	Text     []byte              // the scenario file
	Summary  *simrun.Summary     // the recorded summary; nil for a scenario file
	Strategy plugin.Strategy
	Seed     uint64
}

// LoadRecorded reads a run directory or a scenario file with a run: key,
// finding its strategy with lookup (nil: models.Lookup). Its errors are
// *BadInputError; an invalid scenario's wraps a workloads.Errors.
func LoadRecorded(path string, lookup Lookup) (*Recorded, error) {
	if lookup == nil {
		lookup = models.Lookup
	}
	r, err := loadRecorded(path, lookup)
	return r, badInput(err)
}

func loadRecorded(path string, lookup Lookup) (*Recorded, error) {
	r := &Recorded{Path: path, Dir: path}
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, "scenario.yaml")
		data, err := os.ReadFile(filepath.Join(path, "summary.json"))
		if err != nil {
			return nil, fmt.Errorf("%s is not a run directory: %w", path, err)
		}
		r.Summary = &simrun.Summary{}
		if err := json.Unmarshal(data, r.Summary); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(path, "summary.json"), err)
		}
	} else {
		r.Dir = filepath.Dir(path)
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	sc, err := workloads.ParseScenario(file, text, os.ReadFile)
	if err != nil {
		return nil, err
	}
	r.Scenario, r.Text = sc, text
	name := sc.Run.Strategy
	if r.Summary != nil {
		name = r.Summary.Strategy
	}
	if name == "" {
		return nil, fmt.Errorf("%s names no strategy (run: {strategy: …, seed: …})", file)
	}
	if r.Strategy, err = lookup(name); err != nil {
		return nil, err
	}
	switch {
	case r.Summary != nil:
		r.Seed = r.Summary.Seed
	case sc.Run.Seed != nil:
		r.Seed = *sc.Run.Seed
	default:
		return nil, fmt.Errorf("%s names no seed (run: {strategy: …, seed: …})", file)
	}
	return r, nil
}

// ErrNotReproduced: a replay's history differs from the recorded run's (its
// digest does).
var ErrNotReproduced = errors.New("not reproduced")

// Replay reruns a recorded run and writes its run directory to out
// (default: DIR/replay, or replay/ next to the scenario file). For a run
// directory the replay must be the recorded run: if its digest differs,
// Replay returns the result with an error wrapping ErrNotReproduced.
func Replay(rec *Recorded, out string) (*simrun.Result, error) {
	res, err := Run(rec.replayConfig(out))
	if err != nil {
		return nil, err
	}
	return res, rec.check(res)
}

func (rec *Recorded) replayConfig(out string) RunConfig {
	if out == "" {
		out = filepath.Join(rec.Dir, "replay")
	}
	return RunConfig{Scenario: rec.Scenario, Strategy: rec.Strategy, Seed: rec.Seed, Out: out, Replay: "ctrlsim replay " + shellQuote(rec.Path)}
}

// check compares a replay's digest with the recorded one.
func (rec *Recorded) check(res *simrun.Result) error {
	if rec.Summary == nil || res.Summary.Digest == rec.Summary.Digest {
		return nil
	}
	return fmt.Errorf("%w: digest %s, the recorded run had %s", ErrNotReproduced, res.Summary.Digest, rec.Summary.Digest)
}

// Shrunk is a failing run minimized: the reproducer's file and how it was
// found.
type Shrunk struct {
	faults.ShrinkResult
	File          string // the reproducer, written
	Faults, Steps int    // what is left of the scenario's faults and steps
}

// Shrink minimizes a failing recorded run (a run directory) into a
// scenario file that fails the same check, written to out (default
// DIR/repro.yaml): it drops faults and steps, shortens durations and delays
// and halves replica counts while the run still fails the same way, with at
// most maxRuns candidate runs (0: 500). Its error is a *BadInputError when
// the run did not fail.
func Shrink(ctx context.Context, rec *Recorded, maxRuns int, out string) (*Shrunk, error) {
	if rec.Summary == nil {
		return nil, badInput(fmt.Errorf("%s is not a run directory (it needs summary.json)", rec.Path))
	}
	want := rec.Summary.Signature()
	if want == "" {
		return nil, badInput(fmt.Errorf("the run in %s did not fail: nothing to shrink", rec.Path))
	}
	if maxRuns <= 0 {
		maxRuns = 500
	}
	res, err := faults.Shrink(rec.Text, func(text []byte) (faults.Outcome, error) {
		if err := ctx.Err(); err != nil {
			return faults.Outcome{}, err
		}
		sc, err := workloads.ParseScenario("repro.yaml", text, nil)
		if err != nil {
			return faults.Outcome{}, err
		}
		r, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: rec.Strategy, Seed: rec.Seed})
		if err != nil {
			return faults.Outcome{}, err
		}
		got := r.Summary.Signature()
		return faults.Outcome{Same: got == want, Note: got}, nil
	}, maxRuns)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	file := out
	if file == "" {
		file = filepath.Join(rec.Path, "repro.yaml")
	}
	header := fmt.Sprintf("# A minimal reproducer of %s (%s, seed %d): %s.\n# Shrunk by ctrlsim shrink in %d runs. Run it: ctrlsim run --scenario %s\n",
		rec.Summary.Scenario, rec.Strategy.Name, rec.Seed, want, res.Runs, shellQuote(file))
	if err := writeAtomic(file, append([]byte(header), res.Scenario...)); err != nil {
		return nil, err
	}
	s := &Shrunk{ShrinkResult: *res, File: file}
	if sc, err := workloads.ParseScenario(file, res.Scenario, nil); err == nil {
		s.Faults, s.Steps = len(sc.Faults), len(sc.Steps)
	}
	return s, nil
}

// writeAtomic writes a file through a temporary sibling, so a killed run
// leaves the old file or the new one, never half of one.
func writeAtomic(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// printLoadError prints an invalid scenario's errors, one a line, and
// returns the command's exit.
func printLoadError(cmd *cobra.Command, arg string, err error) error {
	var errs workloads.Errors
	if errors.As(err, &errs) {
		fmt.Fprintln(cmd.ErrOrStderr(), errs.Error())
		return usagef(cmd, "%s is invalid; nothing was run", arg)
	}
	return usagef(cmd, "%v", err)
}

func newReplayCmd(set *strategySet) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "replay DIR|repro.yaml [flags]",
		Short:             "Rerun a run directory (or a repro.yaml) exactly, and check its digest",
		ValidArgsFunction: completeDirs,
		Example: `  ctrlsim replay out/naive
  ctrlsim replay out/chaos/failures/rs-self-heal/upstream/seed-3/repro.yaml -o json`,
	}
	out := cmd.Flags().String("out", "", "run directory for the replay (default: DIR/replay, or next to the repro.yaml)")
	output := outputFlag(cmd, "what to print: text or json (the summary)")
	allowUnknown := cmd.Flags().Bool("allow-unknown", false, "exit 0 when a check could not conclude")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef(cmd, "give one run directory or repro.yaml")
		}
		if err := checkOutput(cmd, *output); err != nil {
			return err
		}
		rec, err := LoadRecorded(args[0], set.lookup)
		if err != nil {
			return printLoadError(cmd, args[0], err)
		}
		res, code := execute(cmd, rec.replayConfig(*out), *output, *allowUnknown)
		if res == nil {
			return code
		}
		if err := rec.check(res); err != nil {
			return failf(cmd, "NOT REPRODUCED: digest %s, the recorded run had %s", res.Summary.Digest, rec.Summary.Digest)
		}
		if rec.Summary != nil {
			fmt.Fprintf(cmd.OutOrStdout(), "  reproduced exactly: digest %s as recorded\n", res.Summary.Digest)
		}
		return code
	}
	return cmd
}

func newShrinkCmd(set *strategySet) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "shrink DIR [flags]",
		Short:             "Minimize a failing run into a repro.yaml that fails the same check",
		ValidArgsFunction: completeDirs,
		Example:           `  ctrlsim shrink out/naive`,
	}
	maxRuns := cmd.Flags().Int("max-runs", 500, "stop after this many candidate runs (the result still fails, but may not be minimal)")
	out := cmd.Flags().String("out", "", "where to write the minimal scenario (default DIR/repro.yaml)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef(cmd, "give one run directory of a failing run")
		}
		if err := atLeast(cmd, "max-runs", *maxRuns, 1); err != nil {
			return err
		}
		rec, err := LoadRecorded(args[0], set.lookup)
		if err != nil {
			return printLoadError(cmd, args[0], err)
		}
		if rec.Summary == nil {
			return usagef(cmd, "%s is not a run directory (it needs summary.json)", args[0])
		}
		want := rec.Summary.Signature()
		if want == "" {
			return usagef(cmd, "the run in %s did not fail: nothing to shrink", args[0])
		}
		stdout := cmd.OutOrStdout()
		fmt.Fprintf(stdout, "shrinking %s (%s, seed %d): keeps what still fails with %s\n", args[0], rec.Strategy.Name, rec.Seed, want)
		s, err := Shrink(cmd.Context(), rec, *maxRuns, *out)
		if err != nil {
			return errorOf(cmd, err)
		}
		printShrunk(stdout, rec, s)
		return nil
	}
	return cmd
}

func printShrunk(w io.Writer, rec *Recorded, s *Shrunk) {
	for _, k := range s.Kept {
		fmt.Fprintf(w, "  kept: %s\n", k)
	}
	if s.Exhausted {
		fmt.Fprintf(w, "  stopped after %d runs (--max-runs): the result fails the same way but may not be minimal\n", s.Runs)
	}
	fmt.Fprintf(w, "  %d faults, %d steps left (from %d and %d), %d runs\n", s.Faults, s.Steps,
		len(rec.Scenario.Faults), len(rec.Scenario.Steps), s.Runs)
	fmt.Fprintf(w, "wrote %s\nrun it: ctrlsim run --scenario %s\n", s.File, shellQuote(s.File))
}
