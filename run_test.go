package ctrlsim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fileScenario = `name: from-a-file
summary: a ReplicaSet scaled up once its pods are ready
manifests:
  - inline: |
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata:
        name: web
      spec:
        replicas: 2
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: nginx
              image: nginx:alpine
steps:
  - after: rs/web ready=2
    timeout: 1m
    scale: rs/web
    replicas: 4
expect:
  convergeWithin: 2m
  stableFor: 10s
`

func writeScenario(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

func TestRunScenarioFile(t *testing.T) {
	file := writeScenario(t, "web.yaml", fileScenario)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("run", "--scenario", file, "--out", out, "-o", "json")
	require.Equal(t, ExitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	var s struct {
		Scenario, Verdict, Replay string
		Steps                     []struct{ Step, At, Error string }
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &s))
	assert.Equal(t, "from-a-file", s.Scenario)
	assert.Equal(t, "pass", s.Verdict)
	assert.Equal(t, "ctrlsim run --scenario "+file+" --strategy upstream --seed 1", s.Replay, "replays from the file")
	require.Len(t, s.Steps, 2)
	assert.Empty(t, s.Steps[1].Error)
	assert.NotEqual(t, "0s", s.Steps[1].At, "the scale waited for the pods")
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), file)
}

func TestRunScenarioFileErrors(t *testing.T) {
	bad := writeScenario(t, "bad.yaml", `name: bad
manifests:
  - inline: |
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata:
        name: rs - web
steps:
  - at: 30s
    scale: rs/web
    replica: 3
`)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"invalid file", []string{"--scenario", bad}, []string{
			bad + `:7: ReplicaSet "rs - web": metadata.name: Invalid value: "rs - web"`,
			bad + `:11: steps[0].replica: unknown field "replica" (did you mean replicas?)`,
			"ctrlsim run: " + bad + " is invalid; nothing was run"}},
		{"missing file", []string{"--scenario", "no/such.yaml"}, []string{"no scenario file no/such.yaml, and no built-in scenario of that name"}},
		{"unknown name", []string{"--scenario", "nope"}, []string{`unknown scenario "nope"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			code, stdout, stderr := runCLI(append([]string{"run", "--out", out}, tc.args...)...)
			assert.Equal(t, ExitUsage, code)
			assert.Empty(t, stdout)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "nothing is written on bad input")
		})
	}
}

func TestRunBuiltinScenario(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("run", "--scenario", "rc-scale", "--out", out)
	require.Equal(t, ExitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "replay: ctrlsim run --scenario rc-scale --strategy upstream --seed 1")
}
