package workloads

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// YAML is read twice over: go.yaml.in/yaml/v3 nodes give the positions (lines)
// and the structure the scenario parser walks; what a manifest means is
// decided as kubectl decides it (sigs.k8s.io/yaml, then JSON), from the same
// node.

// maxDepth bounds every walk of a node tree (a YAML alias may point at its own
// ancestor).
const maxDepth = 100

// maxVisits bounds the nodes one walk visits through aliases and merge keys
// (nested aliases can stand for exponentially many nodes).
const maxVisits = 100_000

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocs reads a stream of YAML (or JSON) documents. offset is added to
// every line (for a manifest written inline in a scenario file). Empty
// documents are left out.
func parseDocs(file string, data []byte, offset int) ([]*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, yamlError(file, err, offset)
		}
		shiftLines(&doc, offset, 0)
		if c := content(&doc); c != nil && !isNull(c) {
			docs = append(docs, &doc)
		}
	}
}

// yamlError turns a syntax error of the YAML library into an Error at its line.
func yamlError(file string, err error, offset int) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line + offset, Detail: "YAML syntax error: " + m[2]}
	}
	return &Error{File: file, Line: max(offset, 0), Detail: "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

func shiftLines(n *yaml.Node, offset, depth int) {
	if offset == 0 || n == nil || depth > maxDepth {
		return
	}
	n.Line += offset
	for _, c := range n.Content {
		shiftLines(c, offset, depth+1) // not n.Alias: the anchor is in the tree already
	}
}

// content is the node a document or alias stands for.
func content(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < maxDepth; i++ {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// kv is one entry of a mapping.
type kv struct{ key, val *yaml.Node }

// entries lists a mapping's entries, with merge keys (<<: *anchor) expanded
// (explicit keys win), and the keys given twice.
func entries(n *yaml.Node) (out []kv, dups []*yaml.Node) {
	seen := map[string]bool{}
	var merged []kv
	visits := 0
	var walk func(n *yaml.Node, depth int, explicit bool)
	walk = func(n *yaml.Node, depth int, explicit bool) {
		n = content(n)
		if visits++; n == nil || depth > maxDepth || visits > maxVisits {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
					walk(v, depth+1, false)
					continue
				}
				if !explicit {
					merged = append(merged, kv{k, v})
					continue
				}
				if k.Kind == yaml.ScalarNode {
					if seen[k.Value] {
						dups = append(dups, k)
						continue
					}
					seen[k.Value] = true
				}
				out = append(out, kv{k, v})
			}
		case yaml.SequenceNode: // <<: [*a, *b]
			for _, c := range n.Content {
				walk(c, depth+1, explicit)
			}
		}
	}
	walk(n, 0, true)
	for _, e := range merged {
		if e.key.Kind == yaml.ScalarNode && !seen[e.key.Value] {
			seen[e.key.Value] = true
			out = append(out, e)
		}
	}
	return out, dups
}

// lookup finds key in the mapping n (exactly, or else ignoring case).
func lookup(n *yaml.Node, key string) (k, v *yaml.Node) {
	es, _ := entries(n)
	for _, e := range es {
		if e.key.Value == key {
			return e.key, content(e.val)
		}
	}
	for _, e := range es {
		if strings.EqualFold(e.key.Value, key) {
			return e.key, content(e.val)
		}
	}
	return nil, nil
}

// scalar is the value of a scalar entry of the mapping n ("" if absent or not
// a scalar), and the line of its key.
func scalar(n *yaml.Node, key string) (string, int) {
	k, v := lookup(n, key)
	if k == nil || v == nil || v.Kind != yaml.ScalarNode || isNull(v) {
		if k != nil {
			return "", k.Line
		}
		return "", 0
	}
	return v.Value, k.Line
}

// pathSeg is one step of a field path: a field name, a list index or a map key.
type pathSeg struct {
	name  string
	index int // -1 unless a list index
	isKey bool
}

// splitPath splits a field path as the API server writes it
// (spec.template.spec.containers[0].image, metadata.labels[app]).
func splitPath(p string) []pathSeg {
	var out []pathSeg
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return out
			}
			inner := p[i+1 : i+end]
			if n, err := strconv.Atoi(inner); err == nil {
				out = append(out, pathSeg{index: n})
			} else {
				out = append(out, pathSeg{name: inner, index: -1, isKey: true})
			}
			i += end + 1
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			out = append(out, pathSeg{name: p[i:j], index: -1})
			i = j
		}
	}
	return out
}

// lineOf is the line of the field at path in the object n: the line of its key,
// or, where the field is missing, the line of the deepest part of the path
// that exists.
func lineOf(n *yaml.Node, path string) int {
	line, _ := locate(n, path)
	return line
}

// locate is lineOf, and the path with the list indices filled in where the
// path leaves them out (as JSON decoding errors do: spec.containers.image).
func locate(n *yaml.Node, path string) (line int, resolved string) {
	cur := content(n)
	if cur == nil {
		return 0, path
	}
	line = cur.Line
	segs := splitPath(path)
	var b strings.Builder
	for i, seg := range segs {
		if seg.index >= 0 {
			if cur.Kind != yaml.SequenceNode || seg.index >= len(cur.Content) {
				return line, path
			}
			cur = content(cur.Content[seg.index])
			if cur == nil {
				return line, path
			}
			line = cur.Line
			fmt.Fprintf(&b, "[%d]", seg.index)
			continue
		}
		if cur.Kind == yaml.SequenceNode && !seg.isKey {
			// A path without the index: the first element that has the field.
			found := -1
			for j, el := range cur.Content {
				if el = content(el); el != nil && el.Kind == yaml.MappingNode {
					if k, _ := lookup(el, seg.name); k != nil {
						found = j
						break
					}
				}
			}
			if found < 0 {
				return line, path
			}
			cur = content(cur.Content[found])
			fmt.Fprintf(&b, "[%d]", found)
		}
		if cur.Kind != yaml.MappingNode {
			return line, path
		}
		k, v := lookup(cur, seg.name)
		if k == nil {
			return line, path
		}
		line = k.Line
		if seg.isKey {
			b.WriteString("[" + seg.name + "]")
		} else {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg.name)
		}
		if v == nil {
			if i == len(segs)-1 {
				return line, b.String()
			}
			return line, path
		}
		cur = v
	}
	return line, b.String()
}

// duplicateKeys reports every key given twice in a mapping anywhere under n,
// with its field path.
func duplicateKeys(n *yaml.Node, path string, depth int, report func(path string, key *yaml.Node)) {
	if n == nil || n.Kind == yaml.AliasNode || depth > maxDepth {
		return // an alias's anchor is checked where it stands
	}
	n = content(n)
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		es, dups := entries(n)
		for _, k := range dups {
			report(joinPath(path, k.Value), k)
		}
		for _, e := range es {
			if e.key.Kind == yaml.ScalarNode {
				duplicateKeys(e.val, joinPath(path, e.key.Value), depth+1, report)
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			duplicateKeys(c, path+"["+strconv.Itoa(i)+"]", depth+1, report)
		}
	}
}

func joinPath(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}

// nodeJSON is what the node means to kubectl, as JSON: YAML 1.1 scalars
// (sigs.k8s.io/yaml), so that "yes" or 0777 mean what they mean to kubectl.
func nodeJSON(n *yaml.Node) ([]byte, error) {
	text, err := marshalNode(n)
	if err != nil {
		return nil, err
	}
	return sigsyaml.YAMLToJSON(text)
}

func marshalNode(n *yaml.Node) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // the emitter panics on some node trees it did not parse
			err = errors.New("cannot re-read this YAML")
		}
	}()
	return yaml.Marshal(n)
}
