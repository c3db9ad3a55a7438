package workloads

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/ctrlsim/ctrlsim/faults"
	yaml "go.yaml.in/yaml/v3"
)

// RunDefaults are the top-level run: key of a scenario: the strategy and
// seed ctrlsim run uses when its flags do not say (a repro.yaml carries
// them, so that it replays with one command).
type RunDefaults struct {
	Strategy string
	Seed     *uint64
}

// SelfContained is the scenario as one file that needs no other: every
// manifest file it names is written inline, its faults: are plan (when plan
// is not nil), and run: names the strategy and seed (when strategy is not
// ""). Parsed again, it is the same scenario.
func (sc *Scenario) SelfContained(plan faults.Plan, strategy string, seed uint64) ([]byte, error) {
	if sc.text == nil {
		return nil, fmt.Errorf("scenario %s was not read from a file: nothing to write", sc.Name)
	}
	docs, perr := parseDocs(sc.file, sc.text, 0)
	if perr != nil {
		return nil, perr
	}
	root := content(docs[0])
	if k, _ := lookup(root, "name"); k == nil {
		setKey(root, "name", scalarNode(sc.Name))
	}
	if _, v := lookup(root, "manifests"); v != nil {
		if err := sc.inline(v); err != nil {
			return nil, err
		}
	}
	if _, steps := lookup(root, "steps"); steps != nil && content(steps).Kind == yaml.SequenceNode {
		for _, st := range content(steps).Content {
			for _, key := range []string{"create", "apply", "to"} {
				if _, v := lookup(content(st), key); v != nil {
					if err := sc.inline(v); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if plan != nil {
		setKey(root, "faults", PlanNode(plan))
	}
	if strategy != "" {
		run := &yaml.Node{Kind: yaml.MappingNode}
		setKey(run, "strategy", scalarNode(strategy))
		setKey(run, "seed", scalarNode(strconv.FormatUint(seed, 10)))
		setKey(root, "run", run)
	}
	return marshalNode(root)
}

// inline rewrites manifest sources that name files ("x.yaml", {path: x.yaml})
// as inline manifests, in place.
func (sc *Scenario) inline(n *yaml.Node) error {
	n = content(n)
	if n.Kind == yaml.SequenceNode {
		for _, el := range n.Content {
			if err := sc.inline(el); err != nil {
				return err
			}
		}
		return nil
	}
	path := ""
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		path = n.Value
	case n.Kind == yaml.MappingNode:
		if k, v := lookup(n, "path"); k != nil {
			path = content(v).Value
		}
	}
	if path == "" {
		return nil
	}
	full := path
	if !filepath.IsAbs(path) {
		full = filepath.Join(filepath.Dir(sc.file), path)
	}
	data, err := sc.read(full)
	if err != nil {
		return fmt.Errorf("%s: %w", sc.file, err)
	}
	*n = yaml.Node{Kind: yaml.MappingNode}
	setKey(n, "inline", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(data), Style: yaml.LiteralStyle})
	return nil
}

func scalarNode(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// setKey sets a mapping's key to val, replacing the value if the key is there.
func setKey(m *yaml.Node, key string, val *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = val
			return
		}
	}
	m.Content = append(m.Content, scalarNode(key), val)
}

// PlanNode is a fault plan as the YAML faults: list, one flow mapping per
// fault, in the words the parser reads.
func PlanNode(plan faults.Plan) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, f := range plan {
		m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		add := func(k, v string) { m.Content = append(m.Content, scalarNode(k), scalarNode(v)) }
		if f.At > 0 || f.After == nil {
			add("at", f.At.String())
		}
		if f.After != nil {
			add("after", f.After.String())
			if f.Timeout > 0 {
				add("timeout", f.Timeout.String())
			}
		}
		add(string(f.Kind), f.Target)
		if f.For > 0 {
			add("for", f.For.String())
		}
		if f.Selector != "" {
			add("selector", f.Selector)
		}
		if f.Count > 0 {
			add("count", strconv.Itoa(f.Count))
		}
		if f.GracePeriod != nil {
			add("gracePeriod", strconv.FormatInt(*f.GracePeriod, 10))
		}
		if len(f.Set) > 0 || len(f.Remove) > 0 {
			set := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
			for _, k := range slices.Sorted(maps.Keys(f.Set)) {
				set.Content = append(set.Content, scalarNode(k), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.Set[k]})
			}
			for _, k := range f.Remove {
				set.Content = append(set.Content, scalarNode(k+"-"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""})
			}
			m.Content = append(m.Content, scalarNode("set"), set)
		}
		if f.Recreate != nil {
			add("recreate", strconv.FormatBool(*f.Recreate))
		}
		if f.RecreateAs != "" {
			add("recreateAs", f.RecreateAs)
		}
		if f.Period > 0 {
			add("period", f.Period.String())
		}
		info, _ := faults.Info(f.Kind)
		for _, o := range info.Options {
			switch o {
			case "delay":
				d := f.Delay.Min.String()
				if f.Delay.Max != f.Delay.Min {
					d += "-" + f.Delay.Max.String()
				}
				add("delay", d)
			case "code":
				add("code", strconv.Itoa(f.Code))
			case "rate":
				if f.Rate < 1 {
					add("rate", strconv.FormatFloat(f.Rate, 'g', -1, 64))
				}
			case "clients":
				if f.Clients != "" {
					add("clients", f.Clients)
				}
			case "gone":
				if f.Gone {
					add("gone", "true")
				}
			case "skew":
				add("skew", f.Skew.String())
			}
		}
		list.Content = append(list.Content, m)
	}
	return list
}
