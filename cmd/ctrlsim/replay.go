package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

func init() {
	register(command{name: "replay", summary: "rerun a run directory (or a repro.yaml) exactly, and check its digest", run: runReplay})
	register(command{name: "shrink", summary: "minimize a failing run into a repro.yaml that fails the same check", run: runShrink})
	register(command{name: "faults", summary: "list the fault kinds a plan can use", run: runFaults})
}

// parseWithArgs parses flags given before or after the positional arguments
// (ctrlsim replay DIR -o json), and returns the positional ones.
func parseWithArgs(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, int) {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, exitOK
		}
	}
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, exitUsage
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	return pos, -1
}

// recorded is a run directory: its self-contained scenario and its summary.
type recorded struct {
	dir      string
	scenario *workloads.Scenario
	text     []byte
	summary  *simrun.Summary // nil for a bare repro.yaml
	strategy plugin.Strategy
	seed     uint64
}

// loadRecorded reads a run directory (scenario.yaml and summary.json) or a
// scenario file with its run: key.
func loadRecorded(arg string) (*recorded, error) {
	r := &recorded{dir: arg}
	file := arg
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		file = filepath.Join(arg, "scenario.yaml")
		data, err := os.ReadFile(filepath.Join(arg, "summary.json"))
		if err != nil {
			return nil, fmt.Errorf("%s is not a run directory: %w", arg, err)
		}
		r.summary = &simrun.Summary{}
		if err := json.Unmarshal(data, r.summary); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(arg, "summary.json"), err)
		}
	} else {
		r.dir = filepath.Dir(arg)
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	sc, err := workloads.ParseScenario(file, text, os.ReadFile)
	if err != nil {
		return nil, err
	}
	r.scenario, r.text = sc, text
	name := sc.Run.Strategy
	if r.summary != nil {
		name = r.summary.Strategy
	}
	if name == "" {
		return nil, fmt.Errorf("%s names no strategy (run: {strategy: …, seed: …})", file)
	}
	if r.strategy, err = models.Lookup(name); err != nil {
		return nil, err
	}
	switch {
	case r.summary != nil:
		r.seed = r.summary.Seed
	case sc.Run.Seed != nil:
		r.seed = *sc.Run.Seed
	default:
		return nil, fmt.Errorf("%s names no seed (run: {strategy: …, seed: …})", file)
	}
	return r, nil
}

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", "DIR|repro.yaml [--out DIR] [-o text|json]", stderr)
	out := fs.String("out", "", "run directory for the replay (default: DIR/replay, or next to the repro.yaml)")
	output := fs.String("o", "text", "what to print: text or json (the summary)")
	allowUnknown := fs.Bool("allow-unknown", false, "exit 0 when a check could not conclude")
	pos, code := parseWithArgs(fs, args, stdout)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "ctrlsim replay: give one run directory or repro.yaml")
		return exitUsage
	}
	rec, err := loadRecorded(pos[0])
	if err != nil {
		printLoadError(stderr, "replay", pos[0], err)
		return exitUsage
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(rec.dir, "replay")
	}
	code = execute("replay", rec.scenario, rec.strategy, rec.seed, dir, "ctrlsim replay "+shellQuote(pos[0]), *output, *allowUnknown, stdout, stderr)
	if rec.summary == nil {
		return code
	}
	// The replay must be the run: the same digest.
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim replay: %v\n", err)
		return exitFail
	}
	var again simrun.Summary
	if err := json.Unmarshal(data, &again); err != nil {
		fmt.Fprintf(stderr, "ctrlsim replay: %v\n", err)
		return exitFail
	}
	if again.Digest != rec.summary.Digest {
		fmt.Fprintf(stderr, "ctrlsim replay: NOT REPRODUCED: digest %s, the recorded run had %s\n", again.Digest, rec.summary.Digest)
		return exitFail
	}
	fmt.Fprintf(stdout, "  reproduced exactly: digest %s as recorded\n", again.Digest)
	return code
}

func printLoadError(stderr io.Writer, cmd, arg string, err error) {
	var errs workloads.Errors
	if errors.As(err, &errs) {
		fmt.Fprintln(stderr, errs.Error())
		fmt.Fprintf(stderr, "ctrlsim %s: %s is invalid; nothing was run\n", cmd, arg)
		return
	}
	fmt.Fprintf(stderr, "ctrlsim %s: %v\n", cmd, err)
}

func runShrink(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("shrink", "DIR [--max-runs N] [--out FILE]", stderr)
	maxRuns := fs.Int("max-runs", 500, "stop after this many candidate runs (the result still fails, but may not be minimal)")
	out := fs.String("out", "", "where to write the minimal scenario (default DIR/repro.yaml)")
	pos, code := parseWithArgs(fs, args, stdout)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "ctrlsim shrink: give one run directory of a failing run")
		return exitUsage
	}
	if *maxRuns <= 0 {
		fmt.Fprintf(stderr, "ctrlsim shrink: --max-runs must be at least 1, not %d\n", *maxRuns)
		return exitUsage
	}
	rec, err := loadRecorded(pos[0])
	if err != nil {
		printLoadError(stderr, "shrink", pos[0], err)
		return exitUsage
	}
	if rec.summary == nil {
		fmt.Fprintf(stderr, "ctrlsim shrink: %s is not a run directory (it needs summary.json)\n", pos[0])
		return exitUsage
	}
	want := rec.summary.Signature()
	if want == "" {
		fmt.Fprintf(stderr, "ctrlsim shrink: the run in %s did not fail: nothing to shrink\n", pos[0])
		return exitUsage
	}
	fmt.Fprintf(stdout, "shrinking %s (%s, seed %d): keeps what still fails with %s\n", pos[0], rec.strategy.Name, rec.seed, want)
	res, err := faults.Shrink(rec.text, func(text []byte) (faults.Outcome, error) {
		sc, err := workloads.ParseScenario("repro.yaml", text, nil)
		if err != nil {
			return faults.Outcome{}, err
		}
		r, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: rec.strategy, Seed: rec.seed})
		if err != nil {
			return faults.Outcome{}, err
		}
		got := r.Summary.Signature()
		return faults.Outcome{Same: got == want, Note: got}, nil
	}, *maxRuns)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim shrink: %v\n", err)
		return exitFail
	}
	for _, k := range res.Kept {
		fmt.Fprintf(stdout, "  kept: %s\n", k)
	}
	file := *out
	if file == "" {
		file = filepath.Join(pos[0], "repro.yaml")
	}
	header := fmt.Sprintf("# A minimal reproducer of %s (%s, seed %d): %s.\n# Shrunk by ctrlsim shrink in %d runs. Run it: ctrlsim run --scenario %s\n",
		rec.summary.Scenario, rec.strategy.Name, rec.seed, want, res.Runs, shellQuote(file))
	if err := writeAtomic(file, append([]byte(header), res.Scenario...)); err != nil {
		fmt.Fprintf(stderr, "ctrlsim shrink: %v\n", err)
		return exitFail
	}
	if res.Exhausted {
		fmt.Fprintf(stdout, "  stopped after %d runs (--max-runs): the result fails the same way but may not be minimal\n", res.Runs)
	}
	sc, _ := workloads.ParseScenario(file, res.Scenario, nil)
	if sc != nil {
		fmt.Fprintf(stdout, "  %d faults, %d steps left (from %d and %d), %d runs\n", len(sc.Faults), len(sc.Steps),
			len(rec.scenario.Faults), len(rec.scenario.Steps), res.Runs)
	}
	fmt.Fprintf(stdout, "wrote %s\nrun it: ctrlsim run --scenario %s\n", file, shellQuote(file))
	return exitOK
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

func runFaults(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("faults", "[-o text|json]", stderr)
	output := fs.String("o", "text", "output format: text or json")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *output == "json" {
		type row struct {
			Kind    string   `json:"kind"`
			Target  string   `json:"target"`
			Options []string `json:"options"`
			For     string   `json:"for"`
			Summary string   `json:"summary"`
		}
		var rows []row
		for _, k := range faults.Kinds {
			rows = append(rows, row{string(k.Kind), string(k.Target), append([]string{}, k.Options...), forWord(k), k.Summary})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return exitFail
		}
		return exitOK
	}
	var rows []listRow
	for _, k := range faults.Kinds {
		opts := ""
		if len(k.Options) > 0 {
			opts = " [" + strings.Join(k.Options, ", ") + "]"
		}
		rows = append(rows, listRow{string(k.Kind), fmt.Sprintf("<%s>%s for: %s — %s", k.Target, opts, forWord(k), k.Summary)})
	}
	return printList(stdout, stderr, "faults", *output, rows)
}

func forWord(k faults.KindInfo) string {
	switch {
	case k.Window:
		return "required"
	case k.Heals:
		return "optional"
	}
	return "none (an instant)"
}
