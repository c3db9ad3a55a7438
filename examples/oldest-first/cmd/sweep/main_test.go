package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSweep runs the command as CI does, on a few seeds: it writes the
// report, and -replay of a run gives that run's digest again.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := sweep([]string{"-seeds", "1-3", "-scenarios", "rs-self-heal,rs-scale-down-deletion-cost", "-jobs", "2",
		"-out", dir}, &stdout, &stderr)
	require.Contains(t, []int{exitOK, exitFail}, code, "stderr: %s", stderr.String())
	assert.Contains(t, stdout.String(), "18 runs, ")

	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	for _, st := range []string{"example-oldest-first", "oldest-first", "upstream"} {
		assert.Contains(t, string(md), "| rs-scale-down-deletion-cost | "+st+" |")
	}
	assert.FileExists(t, filepath.Join(dir, "report.json"))

	data, err := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Equal(t, 18, len(lines), "2 scenarios × 3 strategies × 3 seeds")
	var first struct {
		Scenario, Strategy, Digest string
		Seed                       uint64
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	assert.Equal(t, "rs-self-heal", first.Scenario)
	assert.Equal(t, "example-oldest-first", first.Strategy)

	stdout.Reset()
	code = sweep([]string{"-replay", "-scenario", first.Scenario, "-strategy", first.Strategy, "-seed", "1",
		"-out", filepath.Join(t.TempDir(), "one")}, &stdout, &stderr)
	assert.Contains(t, stdout.String(), "digest "+first.Digest, "the replay is the same run")
	assert.Contains(t, []int{exitOK, exitFail}, code)
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"bad seeds", []string{"-seeds", "5-1"}, "-seeds"},
		{"unknown strategy", []string{"-strategies", "nope"}, "unknown strategy"},
		{"unknown scenario", []string{"-scenarios", "nope"}, "unknown scenario"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
		{"replay: unknown strategy", []string{"-replay", "-scenario", "rs-self-heal", "-strategy", "nope"}, "unknown strategy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := sweep(append(tt.args, "-out", t.TempDir()), &stdout, &stderr)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}

func TestParseSeeds(t *testing.T) {
	tests := []struct {
		in   string
		want []uint64
		err  bool
	}{
		{"3", []uint64{1, 2, 3}, false},
		{"4-6", []uint64{4, 5, 6}, false},
		{"7-7", []uint64{7}, false},
		{"0", nil, true},
		{"6-4", nil, true},
		{"x", nil, true},
		{"1-x", nil, true},
	}
	for _, tt := range tests {
		got, err := parseSeeds(tt.in)
		if tt.err {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}
