// Package bubble runs a function inside a testing/synctest bubble from any
// program, a test or a plain binary, so that code reading the wall clock
// reads the bubble's fake one (see sim.Limits.SyncWallClock).
//
// synctest.Test needs a *testing.T. A test passes its own. Otherwise the
// package obtains one, once per process, by running a single test of its
// own that hands over its T and never returns: in a plain binary through
// testing.MainStart with a hand-written deps value, in a test binary through
// testing.RunTests (MainStart's M.Run would start the profiles, trace and
// test log the test binary's own run already owns). Both are internal APIs of
// the testing package, not covered by the Go 1 compatibility promise: a Go
// release that changes testDeps breaks this package's build, one that
// changes their behaviour fails TestPlainBinary.
package bubble

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Run calls f inside a new synctest bubble, under t if it is not nil and
// under the package's own T otherwise, and waits for the bubble to end. A
// panic of f, a deadlock of the bubble (every goroutine in it durably
// blocked) or a failed test is an error rather than a crash; a panic in
// another goroutine of the bubble still crashes the process, as it would
// outside. Run may be called from several goroutines at once: each call has
// a bubble of its own.
func Run(t *testing.T, f func()) error {
	if t == nil {
		var err error
		if t, err = sharedT(); err != nil {
			return err
		}
	}
	// In a goroutine of its own: synctest.Test calls t.FailNow, which ends the
	// calling goroutine, when the bubble's test fails (a data race under
	// -race).
	done := make(chan error, 1)
	go func() {
		ended := false
		defer func() {
			switch r := recover(); {
			case r != nil:
				done <- fmt.Errorf("synctest bubble: %v", r) // a deadlock
			case !ended:
				done <- errors.New("synctest bubble: the test failed")
			}
		}()
		var err error
		synctest.Test(t, func(*testing.T) {
			// A panic must not reach the bubble's tRunner, which would
			// re-panic where nobody can recover it.
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic in a synctest bubble: %v\n%s", r, debug.Stack())
				}
			}()
			f()
		})
		ended = true
		done <- err
	}()
	return <-done
}

// testName is the package's own test, the one whose T it borrows.
const testName = "ctrlsim-bubble"

var (
	mu     sync.Mutex
	shared *testing.T
)

// sharedT returns the package's T, starting its test the first time.
func sharedT() (*testing.T, error) {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		return shared, nil
	}
	got := make(chan *testing.T)
	tests := []testing.InternalTest{{Name: testName, F: func(t *testing.T) {
		got <- t
		select {} // the T stays valid while its test runs: forever
	}}}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		if testing.Testing() {
			testing.RunTests(matchString, tests)
			return
		}
		m := testing.MainStart(deps{}, tests, nil, nil, nil)
		// M.Run parses os.Args unless the flags are parsed: they are the
		// program's own (ctrlsim's subcommands), so give it none. The
		// testing flags keep their defaults: quiet, no profiles, no
		// timeout; and M.Run never returns to print PASS.
		if !flag.Parsed() {
			_ = flag.CommandLine.Parse(nil) // no arguments, no error
		}
		m.Run()
	}()
	select {
	case shared = <-got:
		return shared, nil
	case <-ended:
		return nil, errors.New("synctest bubble: the testing package did not run the bubble's test (has its internal API changed?)")
	}
}

// matchString selects the package's test whatever -test.run says, and does
// not let -test.skip skip it (a test binary's flags are its own tests').
func matchString(pat, str string) (bool, error) {
	if str != testName {
		return false, nil
	}
	if f := flag.Lookup("test.skip"); f != nil && f.Value.String() != "" && strings.Contains(f.Value.String(), pat) {
		return false, nil
	}
	return true, nil
}

// corpusEntry is testing's (and internal/fuzz's) corpus entry type.
type corpusEntry = struct {
	Parent     string
	Path       string
	Data       []byte
	Values     []any
	Generation int
	IsSeed     bool
}

// deps is testing's testDeps: what MainStart needs from the generated test
// main, none of which (profiles, fuzzing, coverage, the test log) a bubble
// uses.
type deps struct{}

func (deps) ImportPath() string                          { return "" }
func (deps) ModulePath() string                          { return "" }
func (deps) MatchString(pat, str string) (bool, error)   { return matchString(pat, str) }
func (deps) SetPanicOnExit0(bool)                        {}
func (deps) StartCPUProfile(io.Writer) error             { return errNotTest }
func (deps) StopCPUProfile()                             {}
func (deps) StartTestLog(io.Writer)                      {}
func (deps) StopTestLog() error                          { return nil }
func (deps) WriteProfileTo(string, io.Writer, int) error { return errNotTest }
func (deps) CoordinateFuzzing(time.Duration, int64, time.Duration, int64, int, []corpusEntry, []reflect.Type, string, string) error {
	return errNotTest
}
func (deps) RunFuzzWorker(func(corpusEntry) error) error { return errNotTest }
func (deps) ReadCorpus(string, []reflect.Type) ([]corpusEntry, error) {
	return nil, errNotTest
}
func (deps) CheckCorpus([]any, []reflect.Type) error { return nil }
func (deps) ResetCoverage()                          {}
func (deps) SnapshotCoverage()                       {}
func (deps) InitRuntimeCoverage() (string, func(string, string) (string, error), func() float64) {
	return "", nil, nil
}

var errNotTest = errors.New("bubble: not a test binary")
