package controller

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
			w, api := testServer(0, 0)
			ctx := NewContext("ctl", api)
			calls := 0
			var err error
			ctx.Go("retry", func() {
				err = ctx.RetryOnConflict(tt.b, func() error {
					calls++
					if calls <= len(tt.errs) {
						return tt.errs[calls-1]
					}
					return nil
				})
			})
			w.Run()
			assert.Equal(t, tt.want, err)
			assert.Equal(t, tt.calls, calls)
			assert.GreaterOrEqual(t, w.Elapsed(), tt.min)
			assert.LessOrEqual(t, w.Elapsed(), tt.max)
		})
	}
}
