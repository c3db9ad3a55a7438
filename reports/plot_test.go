package reports

import (
	"bytes"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplicasPlotIsDeterministic(t *testing.T) {
	series := map[string][]check.Sample{
		"ReplicaSet/default/b": {{T: 0, Desired: 3}, {T: time.Second, Desired: 3, Current: 3}, {T: 3 * time.Second, Desired: 3, Current: 3, Ready: 3}},
		"ReplicaSet/default/a": {{T: 0, Desired: 1}, {T: 2 * time.Second, Desired: 1, Current: 1, Ready: 1}},
	}
	render := func(format string) []byte {
		p, err := ReplicasPlot("two <owners>", series, 10*time.Second)
		require.NoError(t, err)
		out, err := Render(p, format)
		require.NoError(t, err)
		return out
	}
	svg := render("svg")
	assert.Equal(t, svg, render("svg"), "same inputs, same bytes")
	assert.Contains(t, string(svg), "ReplicaSet/default/a desired")
	assert.Contains(t, string(svg), "two &lt;owners&gt;", "names are text, not markup")
	png := render("png")
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "a PNG")
	assert.Equal(t, png, render("png"))
}

func TestLatencyCDF(t *testing.T) {
	lat := map[string][]time.Duration{"a": {3 * time.Second, time.Second}, "b": {2 * time.Second}}
	p, err := LatencyCDF("s", []string{"a", "b", "never"}, lat, map[string]int{"a": 2, "b": 2, "never": 2})
	require.NoError(t, err)
	svg, err := Render(p, "svg")
	require.NoError(t, err)
	assert.Contains(t, string(svg), "s: convergence latency")
	assert.Contains(t, string(svg), ">a<")
	assert.Contains(t, string(svg), ">b<")
	assert.NotContains(t, string(svg), ">never<", "a strategy that never converged has no curve")
}
