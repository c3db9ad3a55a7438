package faults

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Outcome is what a shrinking candidate did: whether it still fails the same
// way (Same), and why not when it does not.
type Outcome struct {
	Same bool
	Note string
}

// Try runs a candidate scenario file and says whether it still fails the
// same check. An error (a candidate that does not parse) counts as not the
// same.
type Try func(scenario []byte) (Outcome, error)

// ShrinkResult is the minimal scenario and how it was found.
type ShrinkResult struct {
	Scenario []byte
	Runs     int      // candidates run
	Kept     []string // the reductions that kept the failure, in order
	// Exhausted: the run budget ended the search before a fixed point (the
	// result still fails the same way, but may not be minimal).
	Exhausted bool
}

// Shrink minimizes a failing self-contained scenario file: it drops faults,
// drops workload steps, shortens fault durations and lowers replica counts,
// keeping each reduction that still fails the same way (try says), until no
// single reduction does (or maxRuns candidates have run). Removal is tried
// before shortening, so that the result is 1-minimal: removing any one fault
// or step that remains makes the failure go away.
func Shrink(scenario []byte, try Try, maxRuns int) (*ShrinkResult, error) {
	doc, err := parseDoc(scenario)
	if err != nil {
		return nil, err
	}
	res := &ShrinkResult{}
	for progress := true; progress; {
		progress = false
		for _, cand := range candidates(doc) {
			if maxRuns > 0 && res.Runs >= maxRuns {
				res.Exhausted = true
				break
			}
			text, err := yaml.Marshal(cand.doc)
			if err != nil {
				continue
			}
			res.Runs++
			out, err := try(text)
			if err != nil || !out.Same {
				continue
			}
			doc, progress = cand.doc, true
			res.Kept = append(res.Kept, cand.what)
			break // candidates of the smaller scenario next
		}
		if res.Exhausted {
			break
		}
	}
	text, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	res.Scenario = text
	return res, nil
}

func parseDoc(text []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("a scenario is one YAML mapping")
	}
	return doc.Content[0], nil
}

type candidate struct {
	what string
	doc  *yaml.Node
}

// candidates are the one-step reductions of a scenario, in the order to try
// them: drop a fault, drop a step, halve a fault's duration, halve a replica
// count.
func candidates(root *yaml.Node) []candidate {
	var out []candidate
	for _, key := range []string{"faults", "steps"} {
		list := value(root, key)
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for i := len(list.Content) - 1; i >= 0; i-- {
			c := clone(root)
			l := value(c, key)
			l.Content = append(l.Content[:i:i], l.Content[i+1:]...)
			out = append(out, candidate{fmt.Sprintf("drop %s[%d] (%s)", key, i, oneLine(list.Content[i])), c})
		}
	}
	if list := value(root, "faults"); list != nil && list.Kind == yaml.SequenceNode {
		for i, f := range list.Content {
			for _, key := range []string{"for", "delay"} {
				v := value(f, key)
				if v == nil {
					continue
				}
				d, err := time.ParseDuration(v.Value)
				if err != nil || d <= time.Second {
					continue
				}
				half := (d / 2).Truncate(time.Second)
				if half < time.Second {
					half = time.Second
				}
				c := clone(root)
				value(value(c, "faults").Content[i], key).Value = half.String()
				out = append(out, candidate{fmt.Sprintf("faults[%d].%s %v → %v", i, key, d, half), c})
			}
			if v := value(f, "count"); v != nil {
				if n, err := strconv.Atoi(v.Value); err == nil && n > 1 {
					c := clone(root)
					value(value(c, "faults").Content[i], "count").Value = strconv.Itoa(n / 2)
					out = append(out, candidate{fmt.Sprintf("faults[%d].count %d → %d", i, n, n/2), c})
				}
			}
		}
	}
	out = append(out, replicaCandidates(root)...)
	return out
}

// replicaCandidates halve spec.replicas of the inline manifests and the
// replicas of scale steps.
func replicaCandidates(root *yaml.Node) []candidate {
	var out []candidate
	if list := value(root, "manifests"); list != nil && list.Kind == yaml.SequenceNode {
		for i, m := range list.Content {
			inline := value(m, "inline")
			if inline == nil {
				continue
			}
			text, ok := halveReplicas(inline.Value)
			if !ok {
				continue
			}
			c := clone(root)
			value(value(c, "manifests").Content[i], "inline").Value = text
			out = append(out, candidate{fmt.Sprintf("halve spec.replicas in manifests[%d]", i), c})
		}
	}
	if list := value(root, "steps"); list != nil && list.Kind == yaml.SequenceNode {
		for i, st := range list.Content {
			v := value(st, "replicas")
			if v == nil {
				continue
			}
			if n, err := strconv.Atoi(v.Value); err == nil && n > 1 {
				c := clone(root)
				value(value(c, "steps").Content[i], "replicas").Value = strconv.Itoa(n / 2)
				out = append(out, candidate{fmt.Sprintf("steps[%d].replicas %d → %d", i, n, n/2), c})
			}
		}
	}
	return out
}

// halveReplicas halves every spec.replicas above 1 in a manifest stream.
func halveReplicas(text string) (string, bool) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	var docs []*yaml.Node
	changed := false
	for {
		var d yaml.Node
		if err := dec.Decode(&d); err != nil {
			break
		}
		if len(d.Content) == 1 {
			if spec := value(d.Content[0], "spec"); spec != nil {
				if r := value(spec, "replicas"); r != nil {
					if n, err := strconv.Atoi(r.Value); err == nil && n > 1 {
						r.Value = strconv.Itoa(n / 2)
						changed = true
					}
				}
			}
		}
		docs = append(docs, &d)
	}
	if !changed {
		return "", false
	}
	out := ""
	for i, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			return "", false
		}
		if i > 0 {
			out += "---\n"
		}
		out += string(b)
	}
	return out, true
}

// value is a mapping's value for key (nil if absent or not a mapping).
func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func clone(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = clone(x)
	}
	return &c
}

func oneLine(n *yaml.Node) string {
	c := clone(n)
	c.Style = yaml.FlowStyle
	b, err := yaml.Marshal(c)
	if err != nil {
		return "?"
	}
	s := string(b)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}
