package run

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/ctrlsim/ctrlsim"

// layers are the module's packages from the bottom up, as README's Layout
// section draws them: a package may import its own layer and the layers
// below it, never one above. A directory not listed takes the layer of its
// nearest listed parent.
var layers = [][]string{
	{"harness/sim", "harness/history", "harness/trace", "harness/kube"},
	{"harness/apiserver"},
	{"harness/controller"},
	{"harness/cluster"},
	{"harness/check"},
	{"harness/plugin"},
	{"harness/host"},
	{"models"},
	{"workloads", "faults"},
	{"run"},
	{"reports"},
	{"."}, // the CLI library, package ctrlsim
	{"cmd"},
}

func layerOf(dir string) (int, bool) {
	for d := dir; ; d = filepath.Dir(d) {
		for i, names := range layers {
			for _, n := range names {
				if d == n {
					return i, true
				}
			}
		}
		if d == "." || d == "/" || filepath.Dir(d) == "." {
			return 0, false
		}
	}
}

// TestLayersPointDown reads every Go file of the module (nested modules
// such as examples/ and the upstreamdiff ones are theirs to judge) and fails
// on an import that points up: nothing under harness/ imports models,
// workloads, faults, run or the CLI; no model imports faults. Tests of the
// engine (harness/) are held to the same rule, so that the engine can be
// read and tested without the models on top of it.
func TestLayersPointDown(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	var bad []string
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "out" || d.Name() == "bin") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && rel != "." {
				return filepath.SkipDir // a module of its own
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		isTest := strings.HasSuffix(path, "_test.go")
		dir := filepath.Dir(rel)
		from, ok := layerOf(dir)
		if !ok {
			bad = append(bad, rel+": a directory README's Layout does not place")
			return nil
		}
		if isTest && !strings.HasPrefix(dir, "harness") {
			return nil // tests of the upper layers may run whole scenarios
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p != module && !strings.HasPrefix(p, module+"/") {
				continue
			}
			target := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
			if target == "" {
				target = "."
			}
			to, ok := layerOf(target)
			if ok && to > from {
				bad = append(bad, rel+" imports "+target)
			}
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(bad)
	assert.Empty(t, bad, "imports that point up the layers (README, Layout)")
}

// TestLayersCatchAnUpwardImport plants the import the rule exists to catch.
func TestLayersCatchAnUpwardImport(t *testing.T) {
	from, _ := layerOf("harness/cluster")
	to, _ := layerOf("models/replicaset")
	assert.Greater(t, to, from)
	from, _ = layerOf("models/daemonset")
	to, _ = layerOf("faults")
	assert.Greater(t, to, from)
	_, ok := layerOf("nowhere/else")
	assert.False(t, ok)
}
