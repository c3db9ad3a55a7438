package controller

import (
	"errors"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestRetryOnConflict(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "p", errors.New("changed"))
	other := errors.New("other")
	tests := []struct {
		name     string
		b        Backoff
		errs     []error // fn's results in turn; nil after the last
		calls    int
		min, max time.Duration // the virtual time it took
		want     error
	}{
		{"success", DefaultRetry, nil, 1, 0, 0, nil},
		{"another error is not retried", DefaultRetry, []error{other}, 1, 0, 0, other},
		{"two conflicts", DefaultBackoff, []error{conflict, conflict}, 3, 60 * time.Millisecond, 66 * time.Millisecond, nil},
		{"conflicts to the last step", DefaultRetry, []error{conflict, conflict, conflict, conflict, conflict, conflict}, 5,
			40 * time.Millisecond, 44 * time.Millisecond, conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var err error
			w := inContext(func(ctx *Context) {
				err = ctx.RetryOnConflict(tt.b, func() error {
					calls++
					if calls <= len(tt.errs) {
						return tt.errs[calls-1]
					}
					return nil
				})
			})
			assert.Equal(t, tt.want, err)
			assert.Equal(t, tt.calls, calls)
			assert.GreaterOrEqual(t, w.Elapsed(), tt.min)
			assert.LessOrEqual(t, w.Elapsed(), tt.max)
		})
	}
}

func TestUpdateStatusRetrying(t *testing.T) {
	tests := []struct {
		name    string
		retries int
		stale   bool // the object given is older than the stored one
		writes  int  // of withStatus
		wantErr bool
	}{
		{"current", 1, false, 1, false},
		{"stale: read again, written", 1, true, 2, false},
		{"stale, no retry", 0, true, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, api := testServer(0, 0)
			ctx := NewContext("ctl", api)
			resp := api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("p", nil)})
			require.NoError(t, resp.Err)
			given := resp.Object.(*corev1.Pod)
			if tt.stale {
				newer := given.DeepCopy()
				newer.Labels = map[string]string{"changed": "yes"}
				require.NoError(t, api.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Namespace: "default", Name: "p", Object: newer}).Err)
			}
			writes := 0
			var written apiserver.Object
			var err error
			ctx.Go("status", func() {
				written, err = ctx.Client().UpdateStatusRetrying(apiserver.Pods, given, tt.retries, func(obj apiserver.Object) apiserver.Object {
					writes++
					p := obj.(*corev1.Pod).DeepCopy()
					p.Status.Message = "written"
					return p
				})
			})
			w.Run()
			assert.Equal(t, tt.writes, writes)
			if tt.wantErr {
				assert.True(t, apierrors.IsConflict(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "written", written.(*corev1.Pod).Status.Message)
			assert.Equal(t, "", given.Status.Message, "the object given is not changed")
		})
	}
}

// inContext runs f in a coroutine of controller ctl, on an API server that
// answers at once, and the world until nothing is left to do.
func inContext(f func(ctx *Context)) *sim.World {
	w, api := testServer(0, 0)
	ctx := NewContext("ctl", api)
	ctx.Go("test", func() { f(ctx) })
	w.Run()
	return w
}
