package workloads

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzParseScenario feeds the scenario parser arbitrary input. It must not
// panic or hang, must give the same answer twice, and must answer either a
// well-formed scenario or Errors that each name a file. Manifest paths are
// read from memory (the embedded manifests and testdata/invalid), never from
// the disk. The seed corpus is every scenario file in testdata (valid and
// bad) and the invalid manifests; plain go test runs just the seeds. For a
// longer run:
//
//	go test -fuzz=FuzzParseScenario -fuzztime=60s ./workloads
func FuzzParseScenario(f *testing.F) {
	files := map[string][]byte{}
	entries, err := catalogFS.ReadDir("manifests")
	require.NoError(f, err)
	for _, e := range entries {
		data, err := catalogFS.ReadFile("manifests/" + e.Name())
		require.NoError(f, err)
		files[filepath.Join("manifests", e.Name())] = data
	}
	for _, pattern := range []string{"scenarios/*.yaml", "bad/*.yaml", "invalid/*"} {
		matches, err := filepath.Glob(filepath.Join("testdata", pattern))
		require.NoError(f, err)
		require.NotEmpty(f, matches, pattern)
		for _, m := range matches {
			data, err := os.ReadFile(m)
			require.NoError(f, err)
			files[m] = data
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "---", "name: x", "steps: [{at: 1s, wait: rs/a ready=1}]", "a: &x [*x]\nname: *x",
		"manifests:\n- inline: |\n    apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n    spec: {containers: [{name: c, image: i}]}\n",
		"cluster: {nodes: [{name: a}], api: {latency: {get: 1ms}}}\nsteps: [{lose-node: a}]",
		"steps:\n- &s {at: 1m, scale: rs/a, replicas: 1}\n- <<: [*s, *s]\n  at: 2m\n",
		"heavy: true\nload: [{at: 0s, cpu: 30}, {at: 2m, target: rs/a, cpu: 90}]\nsteps:\n- {add-node: {name: n, zone: z}}\n- {drain: n, gracePeriod: 0}\n- {delete-node: n}\n",
		"steps:\n- {set-image: deploy/a, image: [a=b, '*=c']}\n- {rolling-update: rc/a, image: x, container: c, updatePeriod: 1s}\n- {rollout-undo: deploy/a, toRevision: 3}\n",
	} {
		f.Add([]byte(s))
	}
	read := func(name string) ([]byte, error) {
		if data, ok := files[filepath.Clean(name)]; ok {
			return data, nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	parse := func(data []byte) (string, *Scenario, error) {
		sc, err := ParseScenario("testdata/scenarios/fuzz.yaml", data, read)
		if err != nil {
			return err.Error(), nil, err
		}
		return renderScenario(sc), sc, nil
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		text, sc, err := parse(data)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("one parse took %v", d)
		}
		again, _, _ := parse(data)
		if text != again {
			t.Fatalf("two parses differ:\n%s\n---\n%s", text, again)
		}
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 || len(errs) > maxErrors+1 {
				t.Fatalf("not a list of Errors: %T %v", err, err)
			}
			for _, e := range errs {
				if e.File == "" || e.Detail == "" || e.Line < 0 {
					t.Fatalf("error without file or detail: %#v", e)
				}
			}
			if sc != nil {
				t.Fatal("a scenario as well as errors")
			}
			return
		}
		if msgs := validation.IsDNS1123Subdomain(sc.Name); len(msgs) > 0 {
			t.Fatalf("invalid name %q accepted", sc.Name)
		}
		if sc.Expect.ConvergeWithin <= 0 || sc.Expect.StableFor <= 0 {
			t.Fatalf("expectations not positive: %+v", sc.Expect)
		}
		var prev Step
		for i, s := range sc.Steps {
			if s.At < 0 || sc.LastStep() < s.At {
				t.Fatalf("step %d at %v (last step %v)", i, s.At, sc.LastStep())
			}
			if s.After == nil && i > 0 && prev.After == nil && s.At < prev.At {
				t.Fatalf("step %d at %v before step %d at %v", i, s.At, i-1, prev.At)
			}
			if s.After != nil && s.Timeout <= 0 {
				t.Fatalf("step %d waits without a timeout", i)
			}
			if (s.Action == Create || s.Action == Apply) && len(s.Objects) == 0 {
				t.Fatalf("step %d creates nothing", i)
			}
			switch s.Action {
			case SetImage:
				if len(s.Images) == 0 {
					t.Fatalf("step %d sets no image", i)
				}
			case RollingUpdate:
				if (len(s.Objects) == 1) == (s.Image != "") || s.UpdatePeriod <= 0 || s.PollInterval <= 0 || s.UpdateTimeout <= 0 {
					t.Fatalf("step %d: a rolling-update needs one new ReplicationController or an image, and positive timing: %+v", i, s)
				}
			case AddNode:
				if s.Node == nil || s.Target != "node/"+s.Node.Name {
					t.Fatalf("step %d adds no node", i)
				}
			}
			prev = s
		}
		for i := 1; i < len(sc.Load); i++ {
			if sc.Load[i].At < sc.Load[i-1].At || sc.Load[i].CPU < 0 {
				t.Fatalf("load point %d: %+v after %+v", i, sc.Load[i], sc.Load[i-1])
			}
		}
		if err := sc.Cluster.Validate(); err != nil {
			t.Fatalf("invalid cluster accepted: %v", err)
		}
	})
}
