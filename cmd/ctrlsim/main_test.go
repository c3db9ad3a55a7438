package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Makefile stamps the version with -ldflags "-X main.version=…"; the
// binary is ctrlsim.Main with it.
func TestVersionStamp(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ctrlsim")
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gocmd, "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"version"}, `^ctrlsim v0\.0\.0-test go\S+\n$`, 0},
		{[]string{"--version"}, `^ctrlsim v0\.0\.0-test go\S+\n$`, 0},
		{[]string{"frobnicate"}, `^ctrlsim: unknown command "frobnicate" for "ctrlsim"`, 2},
	} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		assert.Equal(t, tc.code, code, "%v", tc.args)
		assert.Regexp(t, tc.want, string(out), "%v", tc.args)
	}
}
