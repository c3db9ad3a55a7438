package main

import (
	"bytes"
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
