package bubble_test

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/run/bubble"
)

// bubbleStart is where a bubble's fake clock starts.
var bubbleStart = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

func TestRunUnderTheTestsT(t *testing.T) {
	var now time.Time
	require.NoError(t, bubble.Run(t, func() { now = time.Now() }))
	assert.True(t, now.Equal(bubbleStart), "%v", now)
}

// TestRunWithoutAT: the package's own T (testing.RunTests in a test
// binary), from several goroutines at once.
func TestRunWithoutAT(t *testing.T) {
	var wg sync.WaitGroup
	slept := make([]time.Duration, 8)
	errs := make([]error, len(slept))
	for i := range slept {
		wg.Go(func() {
			errs[i] = bubble.Run(nil, func() {
				start := time.Now()
				time.Sleep(time.Duration(i) * time.Hour)
				slept[i] = time.Since(start)
			})
		})
	}
	wg.Wait()
	for i := range slept {
		require.NoError(t, errs[i])
		assert.Equal(t, time.Duration(i)*time.Hour, slept[i])
	}
}

func TestDeadlockAndPanicAreErrors(t *testing.T) {
	for _, tt := range []*testing.T{t, nil} {
		err := bubble.Run(tt, func() {
			ch := make(chan int)
			<-ch
		})
		assert.ErrorContains(t, err, "deadlock")
		err = bubble.Run(tt, func() { panic("boom") })
		assert.ErrorContains(t, err, "boom")
	}
}

// TestPlainBinary runs the testing.MainStart route in a plain binary
// (testdata/plain), so that a Go release that changes testing's internals
// fails here: a T is obtained, bubbles run concurrently, a deadlock is an
// error, the program's arguments (which testing's flag parsing would reject)
// are left alone, and testing prints nothing (no PASS) to stdout.
func TestPlainBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "plain")
	build := exec.Command("go", "build", "-o", bin, "./testdata/plain")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	cmd := exec.Command(bin, "run", "--scenario", "x", "-v")
	stdout, err := cmd.Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "%s%s", stdout, stderr)
	assert.Equal(t, `bubble 0: 2000-01-01, slept 1h0m0s
bubble 1: 2000-01-01, slept 2h0m0s
bubble 2: 2000-01-01, slept 3h0m0s
bubble 3: 2000-01-01, slept 4h0m0s
deadlock: true
panic: true
args: [run --scenario x -v]
`, string(stdout))
}
