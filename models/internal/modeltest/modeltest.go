// Package modeltest holds what the models' tests share. It imports no
// model, so that a model's internal tests may use it, and, in the models
// layer, neither workloads nor run: a test parses its scenarios itself
// (workloads.ParseScenario, with os.ReadFile when its manifests are files in
// the package's testdata).
package modeltest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/history"
)

// APIConfig is the API server's default configuration with every request
// taking latency and every watch event arriving watchDelay late: for tests
// of a controller against an API server and nothing else (no scheduler, no
// kubelets: pods stay Pending).
func APIConfig(latency, watchDelay apiserver.Dist) apiserver.Config {
	cfg := apiserver.DefaultConfig()
	cfg.DefaultLatency, cfg.Latency, cfg.WatchDelay = latency, nil, watchDelay
	return cfg
}

// Serve serves req, as a client outside the simulation, and requires it to
// succeed; it returns the object of the response.
func Serve(t testing.TB, api *apiserver.Server, req *apiserver.Request) apiserver.Object {
	t.Helper()
	resp := api.Serve(req)
	require.NoError(t, resp.Err)
	return resp.Object
}

// ScaleWrites are client's successful writes of scale subresources in ops,
// in order, each as "namespace/name=replicas".
func ScaleWrites(ops []*history.Op, client string) []string {
	var out []string
	for _, op := range ops {
		if op.Client == client && op.Verb == "update" && op.Subresource == "scale" && op.Code == 200 {
			out = append(out, op.Key+"="+strings.TrimPrefix(op.Arg, "replicas="))
		}
	}
	return out
}

// AvailableAtTheBoundary checks a model's status counts against the rule
// that a pod is available at the very instant ready + minReadySeconds
// (v1.36's IsPodAvailable), not a check later. count returns the ready and
// available replicas the model counts, at now, for the one pod given, Ready
// since a fixed time.
func AvailableAtTheBoundary(t *testing.T, minReadySeconds int32, count func(pod *corev1.Pod, now time.Time) (ready, available int32)) {
	t.Helper()
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)}}}}
	boundary := time.Duration(minReadySeconds) * time.Second
	for _, tc := range []struct {
		at        time.Duration
		available int32
	}{
		{boundary - 1, 0},
		{boundary, 1},
		{boundary + time.Second, 1},
	} {
		ready, available := count(pod, since.Add(tc.at))
		assert.Equal(t, int32(1), ready, "at %v", tc.at)
		assert.Equal(t, tc.available, available, "at %v", tc.at)
	}
}
