package ctrlsim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
)

// Bad input exits 2 with one line on stderr that names the command and the
// flag (or value) at fault, and writes nothing.
func TestBadInputNamesTheFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `ctrlsim: unknown command "frobnicate" for "ctrlsim" (see ctrlsim --help)`},
		{"unknown flag", []string{"run", "--bogus"}, "ctrlsim run: unknown flag: --bogus (see ctrlsim run --help)"},
		{"one dash", []string{"chaos", "-seeds", "3"}, "ctrlsim chaos: unknown flag -seeds: long flags take two dashes: --seeds"},
		{"not a number", []string{"run", "--scenario", "rc-scale", "--seed", "x"}, `ctrlsim run: invalid argument "x" for "--seed" flag`},
		{"empty seed range", []string{"chaos", "--seeds", "5-1"}, `ctrlsim chaos: --seeds: "5-1" is empty`},
		{"shard out of range", []string{"chaos", "--shard", "3/2"}, `ctrlsim chaos: --shard: "3/2": expected I/N with 0 ≤ I < N`},
		{"no jobs", []string{"chaos", "--jobs", "0"}, "ctrlsim chaos: --jobs must be at least 1, not 0"},
		{"no jobs (compare)", []string{"compare", "--jobs", "0"}, "ctrlsim compare: --jobs must be at least 1, not 0"},
		{"negative shrink runs", []string{"chaos", "--shrink-runs", "-1"}, "ctrlsim chaos: --shrink-runs must be at least 0, not -1"},
		{"few max events", []string{"chaos", "--max-events", "10"}, "ctrlsim chaos: --max-events must be at least 1000, not 10"},
		{"max runs", []string{"shrink", "x", "--max-runs", "0"}, "ctrlsim shrink: --max-runs must be at least 1, not 0"},
		{"yaml output", []string{"scenarios", "-o", "yaml"}, `ctrlsim scenarios: -o must be text or json, not "yaml"`},
		{"yaml output (long)", []string{"run", "--scenario", "rc-scale", "--output=yaml"}, `ctrlsim run: -o must be text or json, not "yaml"`},
		{"yaml output (replay)", []string{"replay", "x", "-o", "yaml"}, `ctrlsim replay: -o must be text or json, not "yaml"`},
		{"unknown strategy", []string{"run", "--scenario", "rc-scale", "--strategy", "nope"}, `ctrlsim run: --strategy: unknown strategy "nope" (known: `},
		{"stray argument", []string{"faults", "extra"}, `ctrlsim faults: unexpected argument "extra"`},
		{"unknown shell", []string{"completion", "tcsh"}, `ctrlsim completion: unknown shell "tcsh": bash, zsh, fish or powershell`},
		{"merge nothing", []string{"merge"}, "ctrlsim merge: give the shard directories to merge"},
		{"replay two", []string{"replay", "a", "b"}, "ctrlsim replay: give one run directory or repro.yaml"},
		{"unknown help topic", []string{"help", "nope"}, `ctrlsim: unknown help topic "nope" (see ctrlsim --help)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			wd, err := os.Getwd()
			require.NoError(t, err)
			require.NoError(t, os.Chdir(dir)) // the default --out is out/…
			defer os.Chdir(wd)
			code, stdout, stderr := runCLI(tc.args...)
			assert.Equal(t, ExitUsage, code, stderr)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(strings.SplitN(stderr, "\n\n", 2)[0], "\n"), "one line: %q", stderr)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "nothing written on bad input")
		})
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, cmd := range []string{"run", "chaos", "merge", "compare", "replay", "shrink", "strategies", "scenarios", "faults", "version", "completion"} {
		for _, flag := range []string{"-h", "--help"} {
			code, stdout, _ := runCLI(cmd, flag)
			assert.Equal(t, ExitOK, code, "%s %s", cmd, flag)
			assert.Contains(t, stdout, "Usage:\n  ctrlsim "+cmd, "%s %s", cmd, flag)
		}
		code, stdout, _ := runCLI("help", cmd)
		assert.Equal(t, ExitOK, code)
		assert.Contains(t, stdout, "ctrlsim "+cmd)
	}
	code, stdout, _ := runCLI("chaos", "--help")
	require.Equal(t, ExitOK, code)
	for _, flag := range []string{"--scenarios", "--strategies", "--seeds", "--jobs", "--shard", "--shrink-runs", "--max-events", "--out", "--exit-zero"} {
		assert.Contains(t, stdout, flag+" ")
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, stdout, stderr := runCLI("completion", shell)
		assert.Equal(t, ExitOK, code, stderr)
		assert.Contains(t, stdout, "ctrlsim", shell)
	}
	// What the scripts ask: strategy names, a list continued after a comma,
	// -o's values.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--strategy", ""}, []string{"upstream", "naive", "extra-strategy"}},
		{[]string{"chaos", "--strategies", "upstream,"}, []string{"upstream,naive", "upstream,oldest-first"}},
		{[]string{"compare", "--scenarios", ""}, []string{"rc-scale", "rs-self-heal"}},
		{[]string{"scenarios", "-o", ""}, []string{"text", "json"}},
		{[]string{""}, []string{"run", "chaos", "compare", "completion", "version"}},
	} {
		var out, errb bytes.Buffer
		extra := plugin.Strategy{Name: "extra-strategy", Summary: "a test strategy"}
		code := Main(append([]string{"__complete"}, tc.args...), &out, &errb, WithStrategies(extra))
		require.Equal(t, ExitOK, code, errb.String())
		lines := strings.Split(out.String(), "\n")
		for _, w := range tc.want {
			assert.True(t, slicesContainPrefix(lines, w), "%v: %q in %q", tc.args, w, out.String())
		}
	}
}

func slicesContainPrefix(lines []string, w string) bool {
	for _, l := range lines {
		if l == w || strings.HasPrefix(l, w+"\t") {
			return true
		}
	}
	return false
}

func TestWithStrategies(t *testing.T) {
	upstream, err := models.Lookup("upstream")
	require.NoError(t, err)
	mine := upstream
	mine.Name, mine.Summary = "mine", "upstream under another name"
	call := func(args []string, opts ...Option) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(args, &out, &errb, opts...)
		return code, out.String(), errb.String()
	}

	code, stdout, _ := call([]string{"strategies"}, WithStrategies(mine))
	require.Equal(t, ExitOK, code)
	assert.Regexp(t, `(?m)^mine\s+upstream under another name$`, stdout)
	assert.Regexp(t, `(?m)^naive\s`, stdout, "the registered ones too")
	code, _, _ = call([]string{"strategies"})
	require.Equal(t, ExitOK, code)

	// A run with it, and its replay (which finds it by name).
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := call([]string{"run", "--scenario", "rc-scale", "--strategy", "mine", "--out", dir}, WithStrategies(mine))
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, stdout, "PASS  scenario=rc-scale strategy=mine seed=1")
	code, stdout, stderr = call([]string{"replay", dir}, WithStrategies(mine))
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, stdout, "reproduced exactly")
	code, _, stderr = call([]string{"replay", dir})
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, `unknown strategy "mine"`)

	// A registered name: the given strategy takes its place.
	override := upstream
	override.Summary = "given"
	code, stdout, _ = call([]string{"strategies"}, WithStrategies(override))
	require.Equal(t, ExitOK, code)
	assert.Regexp(t, `(?m)^upstream\s+given$`, stdout)
	assert.Equal(t, 1, strings.Count(stdout, "\nupstream "), "once")

	code, _, stderr = call([]string{"strategies"}, WithStrategies(mine, mine))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, `strategy "mine" given twice`)
}

func TestWithVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb bytes.Buffer
		code := Main(args, &out, &errb, WithVersion("v1.2.3"))
		assert.Equal(t, ExitOK, code)
		assert.Regexp(t, `^ctrlsim v1\.2\.3 go\S+\n$`, out.String())
	}
}

func TestParseSeedsAndShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint64
		err  string
	}{
		{"3", []uint64{1, 2, 3}, ""},
		{"4-6", []uint64{4, 5, 6}, ""},
		{"7-7", []uint64{7}, ""},
		{"0", nil, `"0" is empty`},
		{"6-4", nil, `"6-4" is empty`},
		{"x", nil, `"x" is not a count or a range FROM-TO`},
		{"1-x", nil, `"1-x" is not a range FROM-TO`},
		{"1-2000000", nil, "more than a million seeds"},
	} {
		got, err := ParseSeeds(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, got, must(ParseSeeds(FormatSeeds(got))), "FormatSeeds(%v) reads back", got)
	}
	assert.Equal(t, "4-6", FormatSeeds([]uint64{4, 5, 6}))
	assert.Equal(t, "7-7", FormatSeeds([]uint64{7}))
	assert.Equal(t, "1,5", FormatSeeds([]uint64{1, 5}))

	for _, tc := range []struct {
		in       string
		i, n     int
		hasError bool
	}{
		{"0/1", 0, 1, false},
		{"2/3", 2, 3, false},
		{"3/3", 0, 0, true},
		{"3/2", 0, 0, true},
		{"-1/2", 0, 0, true},
		{"0/0", 0, 0, true},
		{"1", 0, 0, true},
		{"a/b", 0, 0, true},
	} {
		i, n, err := ParseShard(tc.in)
		if tc.hasError {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, [2]int{tc.i, tc.n}, [2]int{i, n}, tc.in)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The library's bad input is a *BadInputError and writes nothing; a
// cancelled sweep leaves the directory as it was.
func TestChaosLibraryErrors(t *testing.T) {
	upstream, err := models.Lookup("upstream")
	require.NoError(t, err)
	ok := ChaosConfig{Scenarios: []string{"rc-scale"}, Strategies: []plugin.Strategy{upstream}, Seeds: []uint64{1}, Jobs: 1}
	for _, tc := range []struct {
		name string
		edit func(*ChaosConfig)
		want string
	}{
		{"no strategy", func(c *ChaosConfig) { c.Strategies = nil }, "no strategy"},
		{"no seed", func(c *ChaosConfig) { c.Seeds = nil }, "no seed"},
		{"bad shard", func(c *ChaosConfig) { c.Shard, c.Shards = 2, 2 }, "shard 2/2"},
		{"unknown scenario", func(c *ChaosConfig) { c.Scenarios = []string{"nope"} }, `unknown scenario "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			cfg.Out = filepath.Join(t.TempDir(), "chaos")
			tc.edit(&cfg)
			_, err := Chaos(context.Background(), cfg)
			var bad *BadInputError
			require.True(t, errors.As(err, &bad), "%v", err)
			assert.ErrorContains(t, err, tc.want)
			assert.NoDirExists(t, cfg.Out)
		})
	}

	dir := t.TempDir()
	cfg := ok
	cfg.Out = filepath.Join(dir, "chaos")
	require.NoError(t, os.MkdirAll(cfg.Out, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cfg.Out, "old.txt"), []byte("old"), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Chaos(ctx, cfg)
	assert.ErrorIs(t, err, context.Canceled)
	assert.FileExists(t, filepath.Join(cfg.Out, "old.txt"), "left as it was")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary directory left")

	res, err := Chaos(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, ExitOK, res.ExitCode())
	assert.NoFileExists(t, filepath.Join(cfg.Out, "old.txt"), "replaced whole")
	assert.Equal(t, "1-1", res.Sweep.Seeds)
	var text bytes.Buffer
	require.NoError(t, res.WriteText(&text))
	assert.Equal(t, "1 runs, 0 failed, 0 unknown; wrote "+cfg.Out+" (results.jsonl, junit.xml, summary.md, failures/)\n", text.String())
}
