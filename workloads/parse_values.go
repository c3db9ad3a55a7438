package workloads

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Scalars, read the same way wherever a scenario file has them.

// str reads a single value.
func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	n = content(n)
	if n == nil || isNull(n) {
		p.fail(n, path, "Required value")
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.fail(n, path, "Invalid value: expected a single value, not a list or a mapping")
		return "", false
	}
	return n.Value, true
}

// durationNode reads a duration written as Go writes them (30s, 5m, 1h30m,
// 250ms); a bare 0 is zero.
func (p *parser) durationNode(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			p.fail(n, path, fmt.Sprintf("Invalid value: %q: a duration needs a unit, e.g. %ss (s, m, h, ms)", s, s))
		} else {
			p.fail(n, path, fmt.Sprintf("Invalid value: %q: not a duration, e.g. 30s, 5m, 1h30m, 250ms", s))
		}
		return 0, false
	}
	return d, true
}

// boolNode reads true or false.
func (p *parser) boolNode(n *yaml.Node, path string) (bool, bool) {
	n = content(n)
	if n == nil || isNull(n) || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		v := ""
		if n != nil {
			v = n.Value
		}
		p.fail(n, path, fmt.Sprintf("Invalid value: %q: expected true or false", v))
		return false, false
	}
	return strings.EqualFold(n.Value, "true"), true
}

func (p *parser) positiveDuration(n *yaml.Node, path string) (time.Duration, bool) {
	d, ok := p.durationNode(content(n), path)
	if ok && d <= 0 {
		p.fail(content(n), path, fmt.Sprintf("Invalid value: %q: must be greater than 0", content(n).Value))
		return 0, false
	}
	return d, ok
}

func (p *parser) intNode(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.fail(content(n), path, fmt.Sprintf("Invalid value: %q: expected a whole number", s))
		return 0, false
	}
	if v < lo {
		p.fail(content(n), path, fmt.Sprintf("Invalid value: %d: must be greater than or equal to %d", v, lo))
		return 0, false
	}
	if v > hi {
		p.fail(content(n), path, fmt.Sprintf("Invalid value: %d: must be less than or equal to %d", v, hi))
		return 0, false
	}
	return v, true
}

// Helpers.

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func listSome(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(", … (%d in all)", len(list))
}

// suggest is the known word closest to key (a typo: at most two edits, or a
// difference of case; or the one known word that starts with key-), or "".
func suggest(key string, known []string) string {
	var prefixed []string
	for _, k := range known {
		if strings.HasPrefix(k, key+"-") {
			prefixed = append(prefixed, k)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	best, bestD := "", 3
	for _, k := range known {
		d := editDistance(strings.ToLower(key), strings.ToLower(k))
		if strings.EqualFold(key, k) {
			d = 0
		}
		if d < bestD {
			best, bestD = k, d
		}
	}
	if bestD > 2 || (bestD == 2 && len(key) <= 3) {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keyValues reads what a verb takes as a mapping {key: value} or as
// kubectl-style arguments (args, each of the form form): entry gets each key
// of a mapping with its value's content (nil for none), arg each argument.
// A null n is nothing; anything else fails, expected being what it may be.
func (p *parser) keyValues(n *yaml.Node, path, form, expected string, entry func(key, val *yaml.Node), arg func(node *yaml.Node, a string)) {
	switch {
	case n == nil || isNull(n):
	case n.Kind == yaml.MappingNode:
		es, dups := entries(n)
		p.reportDups(dups, path)
		for _, e := range es {
			entry(e.key, content(e.val))
		}
	case n.Kind == yaml.SequenceNode || n.Kind == yaml.ScalarNode:
		p.args(n, path, form, arg)
	default:
		p.fail(n, path, "Invalid value: expected "+expected)
	}
}

// args reads kubectl-style arguments written as a YAML list ([a=b, c-]) or
// as one string ("a=b c-") and hands each to arg.
func (p *parser) args(n *yaml.Node, path, expect string, arg func(node *yaml.Node, a string)) {
	if n.Kind == yaml.ScalarNode {
		for _, a := range strings.Fields(n.Value) {
			arg(n, a)
		}
		return
	}
	for _, el := range n.Content {
		if el = content(el); el == nil || el.Kind != yaml.ScalarNode {
			p.fail(el, path, "Invalid value: expected "+expect)
			continue
		}
		arg(el, el.Value)
	}
}
