package workloads

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
)

// The built-in catalog: one scenario file per workflow of the source
// material, with the manifests they use. Each is an ordinary scenario file
// (see parse.go); `ctrlsim run --scenario FILE` runs a copy just the same.
//
//go:embed catalog/*.yaml manifests/*.yaml
var catalogFS embed.FS

// Lookup parses a fresh copy of a built-in scenario.
func Lookup(name string) (*Scenario, error) {
	file := "catalog/" + name + ".yaml"
	if _, err := catalogFS.Open(file); err != nil || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("unknown scenario %q (built-in: %s)", name, strings.Join(Names(), ", "))
	}
	sc, err := ParseScenarioFS(catalogFS, file)
	if err != nil {
		return nil, fmt.Errorf("built-in scenario %s: %w", name, err)
	}
	sc.Source = "" // built in: replayed by name
	return sc, nil
}

// Names lists the built-in scenarios in order.
func Names() []string {
	entries, _ := catalogFS.ReadDir("catalog")
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, path.Base(n))
		}
	}
	sort.Strings(out)
	return out
}
