package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := runCLI("--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "Usage:")
	assert.Contains(t, out, "version")
}

func TestNoArgumentsIsUsageError(t *testing.T) {
	code, _, errOut := runCLI()
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "Usage:")
}

func TestUnknownCommand(t *testing.T) {
	code, _, errOut := runCLI("frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(args...)
		assert.Equal(t, exitOK, code)
		assert.Regexp(t, `^ctrlsim \S+`, out)
	}
	code, _, _ := runCLI("version", "extra")
	assert.Equal(t, exitUsage, code)
}

func TestStrategies(t *testing.T) {
	code, out, _ := runCLI("strategies")
	assert.Equal(t, exitOK, code)
	for _, name := range []string{"upstream", "naive", "linear-age", "random", "oldest-first", "newest-first", "no-slow-start"} {
		assert.Regexp(t, "(?m)^"+name+`\s+\S`, out)
	}
	code, out, _ = runCLI("strategies", "-o", "json")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, `"name": "upstream"`)
	code, _, errOut := runCLI("strategies", "-o", "yaml")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-o must be text or json")
	code, _, _ = runCLI("strategies", "--bogus")
	assert.Equal(t, exitUsage, code)
}

func TestCompareIsIndependentOfJobs(t *testing.T) {
	dir := t.TempDir()
	one, two := dir+"/one", dir+"/two"
	args := []string{"compare", "--strategies", "upstream,naive", "--scenarios", "rs-scale-down-deletion-cost,rc-scale", "--seeds", "1-3"}
	code, out, errOut := runCLI(append(args, "--jobs", "1", "--out", one)...)
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "| rs-scale-down-deletion-cost | upstream | 3 | 0 | 0 |")
	code, _, errOut = runCLI(append(args, "--jobs", "2", "--out", two)...)
	assert.Equal(t, exitOK, code, errOut)
	for _, f := range []string{"report.md", "report.json", "runs/rc-scale/naive/seed-2/history.jsonl"} {
		a, err := os.ReadFile(one + "/" + f)
		assert.NoError(t, err)
		b, err := os.ReadFile(two + "/" + f)
		assert.NoError(t, err)
		assert.Equal(t, string(a), string(b), f)
	}
}

func TestCompareBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "--seeds", "x"}, `--seeds: "x" is not a count`},
		{[]string{"compare", "--seeds", "5-2"}, `"5-2" is empty`},
		{[]string{"compare", "--strategies", "nope"}, `unknown strategy "nope"`},
		{[]string{"compare", "--scenarios", "nope"}, `unknown scenario "nope"`},
		{[]string{"compare", "--jobs", "0"}, "--jobs must be at least 1"},
	} {
		code, _, errOut := runCLI(tc.args...)
		assert.Equal(t, exitUsage, code, tc.args)
		assert.Contains(t, errOut, tc.want)
	}
}
