package rollingupdate

import (
	"errors"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodAvailable(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC)
	pod := func(status corev1.ConditionStatus, since time.Duration) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(now.Add(-since))}}}}
	}
	assert.True(t, podAvailable(pod(corev1.ConditionTrue, 0), 0, now))
	assert.False(t, podAvailable(pod(corev1.ConditionFalse, time.Hour), 0, now))
	assert.False(t, podAvailable(&corev1.Pod{}, 0, now))
	assert.False(t, podAvailable(pod(corev1.ConditionTrue, 10*time.Second), 10, now), "ready for exactly minReadySeconds: not yet")
	assert.True(t, podAvailable(pod(corev1.ConditionTrue, 11*time.Second), 10, now))
}

// TestPoll: checks at once (immediate), then on a fixed grid of intervals
// from the start; a check slower than the interval is followed at once; no
// check at or after the timeout.
func TestPoll(t *testing.T) {
	for _, tc := range []struct {
		name      string
		immediate bool
		cost      time.Duration // how long each check takes
		holdsAt   int           // the check that succeeds (0: none)
		want      []time.Duration
		err       error
	}{
		{"immediate, times out", true, 0, 0, []time.Duration{0, 3, 6, 9}, ErrWaitTimeout},
		{"not immediate", false, 0, 0, []time.Duration{3, 6, 9}, ErrWaitTimeout},
		{"holds on the third", true, 0, 3, []time.Duration{0, 3, 6}, nil},
		{"slow checks drop ticks", true, 4, 0, []time.Duration{0, 4, 8}, ErrWaitTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := sim.New(1, sim.Limits{MaxTime: time.Hour})
			ctx := controller.NewContext("kubectl", apiserver.New(w, apiserver.DefaultConfig()))
			u := &updater{ctx: ctx}
			var calls []time.Duration
			var err error
			ctx.Go("poll", func() {
				err = u.poll(3*time.Second, 10*time.Second, tc.immediate, func() (bool, error) {
					calls = append(calls, w.Elapsed()/time.Second)
					ctx.Sleep(tc.cost * time.Second)
					return len(calls) == tc.holdsAt, nil
				})
			})
			w.Run()
			assert.Equal(t, tc.want, calls)
			assert.True(t, errors.Is(err, tc.err) || (err == nil && tc.err == nil), "%v", err)
		})
	}
}
