package check

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The Deployment bounds count a pod as available from the very instant
// ready + minReadySeconds, as the controllers do (kube.IsPodAvailable).
func TestAvailableSinceAtTheBoundary(t *testing.T) {
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		minReady time.Duration
		at       time.Duration
		want     bool
	}{
		{0, 0, true},
		{5 * time.Second, 5*time.Second - 1, false},
		{5 * time.Second, 5 * time.Second, true},
		{5 * time.Second, 6 * time.Second, true},
	} {
		assert.Equal(t, tc.want, availableSince(since, tc.minReady, since.Add(tc.at)), "minReady %v at %v", tc.minReady, tc.at)
	}
	assert.False(t, availableSince(time.Time{}, time.Second, since), "a zero time is never available")
}
