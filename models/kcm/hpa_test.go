package kcm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// Upstream's HorizontalPodAutoscaler controller, hosted with the resource
// metrics API the host serves and a scale client: on rs-hpa with manifests
// as it needs them (the target's apiVersion named, a CPU request on the
// pods) it scales 3 → 6+ → 3 like the model, deterministically. On the
// catalog's rs-hpa as written it never scales, for upstream's own reasons
// (the model knowingly deviates there: see models/hpa).
func TestUpstreamHPA(t *testing.T) {
	st := strategy(t, "kcm-hpa")
	sc, err := workloads.LoadScenario("testdata/hpa/catalog/rs-hpa.yaml")
	require.NoError(t, err)
	var digests []string
	for range 2 {
		res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1})
		require.NoError(t, err)
		require.Equal(t, run.Pass, res.Summary.Verdict, checks(res))
		digests = append(digests, res.Summary.Digest)
	}
	assert.Equal(t, digests[0], digests[1])

	res := runScenario(t, "rs-hpa", st, 1)
	assert.Equal(t, run.Fail, res.Summary.Verdict, "upstream's HPA resolved a target without an apiVersion, or a pod without a CPU request")
}
