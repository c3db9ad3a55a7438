// Package modeltest holds what the models' tests share. It sits in the
// models layer: it may not import workloads (scenarios); a test parses
// those itself, with workloads.ParseScenario and os.ReadFile when its
// manifests are files in the package's testdata.
package modeltest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
)

// Strategy is the built-in upstream strategy with a controller named
// controllerName, reconciling kind with run, in place of upstream's
// controller of that kind.
func Strategy(t testing.TB, controllerName string, kind apiserver.Kind, run func(*controller.Context, *trace.Recorder)) plugin.Strategy {
	t.Helper()
	st, err := models.Lookup("upstream")
	require.NoError(t, err)
	return st.With(plugin.Controller{Name: controllerName, Kinds: []apiserver.Kind{kind}, Run: run})
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
