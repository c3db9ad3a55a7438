package workloads

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// A scenario file is YAML: what the cluster is, which manifests exist at the
// start, and what a user then does, the way they would do it with kubectl.
//
//	name: rs-self-heal                 # default: the file name without .yaml
//	summary: replicas 3, a node lost, back to 3
//	heavy: false                       # true: compare runs it only when named
//	cluster:                           # cluster.Config; durations as 30s, 5ms
//	  nodeCount: 3
//	manifests:                         # created at time 0, in order
//	  - frontend.yaml                  # a file (relative to this one), or
//	  - path: frontend.yaml            # the same
//	  - inline: |                      # a multi-document YAML stream, or
//	      apiVersion: v1
//	      kind: Pod ...
//	  - apiVersion: v1                 # an object written in place
//	    kind: Pod ...
//	steps:                             # in order; at never decreases
//	  - at: 30s
//	    scale: rs/frontend
//	    replicas: 10
//	  - after: rs/frontend ready=10    # instead of (or besides) at
//	    timeout: 2m
//	    lose-node: node/node-2
//	load:                              # CPU use in % of the pods' request, for
//	  - {at: 0s, target: rs/frontend, cpu: 30}  # the autoscaler models;
//	  - {at: 2m, cpu: 90}              # no target: every pod
//	expect:
//	  convergeWithin: 5m
//	  stableFor: 30s
//	faults:                            # what goes wrong: see ParseFaults
//	  - {at: 1m, lose-node: node/node-2, for: 2m}
//	run: {strategy: naive, seed: 7}    # ctrlsim run's defaults (a repro.yaml has them)
//
// Every step has one action; the actions (verbs) and their options are in
// verbList, each in the file of its area (steps_*.go).
// Besides create, apply, scale, annotate, label, delete, cordon, uncordon,
// wait, lose-node and return-node, in kubectl's words:
//
//	- set-image: deployment/nginx-deployment   # kubectl set image (also rs, rc,
//	  image: {nginx: "nginx:1.91"}             # sts, ds; or [nginx=nginx:1.91]; * = every container)
//	- rollout-undo: deployment/nginx-deployment
//	  toRevision: 2                            # kubectl rollout undo --to-revision (default: the previous)
//	- rollout-pause: deployment/nginx-deployment   # and rollout-resume
//	- rolling-update: rc/frontend-v1           # kubectl rolling-update (client side):
//	  to: frontend-v2.yaml                     # the new RC, as create takes it, or
//	  # image: nginx:1.9.1, container: nginx   # a new image
//	  updatePeriod: 1m                         # defaults 1m, 3s, 5m (updateTimeout is
//	  pollInterval: 3s                         # kubectl's --timeout: timeout goes with after)
//	  updateTimeout: 5m
//	- drain: node/node-2                       # cordon, delete every pod on it but DaemonSets'
//	  gracePeriod: 0                           # optional; default each pod's own
//	- add-node: {name: node-4, zone: b, labels: {disk: ssd}}  # or add-node: node-4
//	- delete-node: node/node-4                 # the machine goes (Node deleted, kubelet stopped)
//
// A step may expect to fail: expectError (an API status reason: Conflict) and
// expectErrorMessage (text of the error: kubectl's own refusals, such as "no
// rollout history found").

// ParseScenario parses a scenario file's contents. file names it in errors and
// anchors the manifest paths it gives (relative to its directory); read reads
// those files (os.ReadFile for files on disk; nil allows no paths). On bad
// input it returns nothing but Errors, each naming the file, the line, the
// object or step and the field.
func ParseScenario(file string, data []byte, read func(name string) ([]byte, error)) (*Scenario, error) {
	p := &parser{file: file, read: read}
	sc := p.parse(data)
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	sc.text, sc.read, sc.file = data, read, file
	if read == nil {
		sc.read = func(name string) ([]byte, error) {
			return nil, fmt.Errorf("no file %s: this scenario may name none", name)
		}
	}
	return sc, nil
}

// LoadScenario reads and parses a scenario file from disk.
func LoadScenario(file string) (*Scenario, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseScenario(file, data, os.ReadFile)
}

// ParseScenarioFS parses the scenario file name in fsys (an embed.FS for a
// catalog of scenario files); its manifest paths are relative to it in fsys.
func ParseScenarioFS(fsys fs.FS, name string) (*Scenario, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	return ParseScenario(name, data, func(p string) ([]byte, error) { return fs.ReadFile(fsys, filepath.ToSlash(p)) })
}

var (
	topKeys    = []string{"name", "summary", "heavy", "cluster", "manifests", "steps", "load", "expect", "faults", "run"}
	runKeys    = []string{"strategy", "seed"}
	expectKeys = []string{"convergeWithin", "stableFor", "maxOvershoot"}
	sourceKeys = []string{"path", "inline"}
	loadKeys   = []string{"at", "target", "cpu"}
	// podKinds are the kinds a load target may name: they have pods.
	podKinds = map[apiserver.Kind]bool{apiserver.Pods: true, apiserver.ReplicaSets: true, apiserver.ReplicationControllers: true,
		apiserver.Deployments: true, apiserver.StatefulSets: true, apiserver.DaemonSets: true}
)

type parser struct {
	file      string
	read      func(string) ([]byte, error)
	errs      errorSink
	nodes     map[string]bool // the cluster's nodes
	nodeNames []string
	lastAt    time.Duration
	visits    int  // nodes the cluster walk has visited
	tooDeep   bool // and it gave up
}

func (p *parser) fail(n *yaml.Node, field, detail string) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs.add(&Error{File: p.file, Line: line, Field: field, Detail: detail})
}

func (p *parser) reportDups(dups []*yaml.Node, path string) {
	for _, k := range dups {
		p.fail(k, joinPath(path, k.Value), fmt.Sprintf("duplicate field %q", k.Value))
	}
}

func (p *parser) unknownField(k *yaml.Node, path, key string, known []string) {
	detail := fmt.Sprintf("unknown field %q", key)
	if s := suggest(key, known); s != "" {
		detail += fmt.Sprintf(" (did you mean %s?)", s)
	} else {
		detail += " (known: " + strings.Join(known, ", ") + ")"
	}
	p.fail(k, joinPath(path, key), detail)
}

// fields reads a mapping's entries by key, reporting keys given twice, keys
// that are not strings and keys not in known.
func (p *parser) fields(n *yaml.Node, path string, known []string) map[string]kv {
	es, dups := entries(n)
	p.reportDups(dups, path)
	out := map[string]kv{}
	for _, e := range es {
		if e.key.Kind != yaml.ScalarNode {
			p.fail(e.key, path, "a key must be a string")
			continue
		}
		if !contains(known, e.key.Value) {
			p.unknownField(e.key, path, e.key.Value, known)
			continue
		}
		out[e.key.Value] = e
	}
	return out
}

func (p *parser) parse(data []byte) *Scenario {
	root := p.root(data)
	if root == nil {
		return nil
	}
	top := p.fields(root, "", topKeys)
	sc := &Scenario{Source: p.file}
	p.names(sc, root, top)
	clusterOK := true
	if e, ok := top["cluster"]; ok {
		sc.Cluster, clusterOK = p.clusterConfig(e.val)
	} else {
		sc.Cluster = cluster.DefaultConfig()
	}
	p.nodes = map[string]bool{}
	if clusterOK {
		for _, ns := range sc.Cluster.NodeSpecs() {
			p.nodes[ns.Name] = true
			p.nodeNames = append(p.nodeNames, ns.Name)
		}
	}
	if e, ok := top["manifests"]; ok {
		sc.Objects = p.manifests(e.val)
	}
	if e, ok := top["steps"]; ok {
		sc.Steps = p.steps(e.val, clusterOK)
	}
	if e, ok := top["load"]; ok {
		sc.Load = p.load(e.val)
	}
	if e, ok := top["expect"]; ok {
		p.expect(&sc.Expect, e.val)
	}
	if e, ok := top["faults"]; ok {
		sc.Faults = p.faultPlan(e.val, "faults", clusterOK)
	}
	if e, ok := top["run"]; ok {
		p.runDefaults(&sc.Run, e.val)
	}
	sc.Defaults()
	return sc
}

// root is the scenario's mapping: the one document of the file, if it is a
// scenario.
func (p *parser) root(data []byte) *yaml.Node {
	docs, perr := parseDocs(p.file, data, 0)
	if perr != nil {
		p.errs.add(perr)
		return nil
	}
	if len(docs) == 0 {
		p.fail(nil, "", "empty scenario: expected name, summary, cluster, manifests, steps and expect")
		return nil
	}
	if len(docs) > 1 {
		p.fail(content(docs[1]), "", "a scenario file holds one scenario (one YAML document); list manifests under manifests:")
		return nil
	}
	root := content(docs[0])
	if root == nil || root.Kind != yaml.MappingNode {
		p.fail(root, "", "a scenario is a mapping of name, summary, cluster, manifests, steps and expect")
		return nil
	}
	if k, _ := lookup(root, "apiVersion"); k != nil {
		if k2, _ := lookup(root, "kind"); k2 != nil {
			p.fail(k, "", "this is a Kubernetes manifest, not a scenario: a scenario lists manifests under manifests: (- path: file.yaml)")
			return nil
		}
	}
	return root
}

// names reads name (by default the file's), summary and heavy.
func (p *parser) names(sc *Scenario, root *yaml.Node, top map[string]kv) {
	sc.Name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p.file), ".yaml"), ".yml")
	nameNode := root
	if e, ok := top["name"]; ok {
		sc.Name, _ = p.str(e.val, "name")
		nameNode = e.val
	}
	if msgs := validation.IsDNS1123Subdomain(sc.Name); len(msgs) > 0 {
		detail := fmt.Sprintf("Invalid value: %q: %s", sc.Name, strings.Join(msgs, "; "))
		if _, ok := top["name"]; !ok {
			detail += " (the name is taken from the file name: give one with name:)"
		}
		p.fail(nameNode, "name", detail)
	}
	if e, ok := top["summary"]; ok {
		sc.Summary, _ = p.str(e.val, "summary")
	}
	if e, ok := top["heavy"]; ok {
		sc.Heavy, _ = p.boolNode(e.val, "heavy")
	}
}

// list is the items of the YAML list n at path; ok is false when there is
// none: n is null, or it is not a list (an error saying it expected the
// expected).
func (p *parser) list(n *yaml.Node, path, expected string) (items []*yaml.Node, ok bool) {
	n = content(n)
	switch {
	case n == nil || isNull(n):
		return nil, false
	case n.Kind != yaml.SequenceNode:
		p.fail(n, path, "Invalid value: expected "+expected)
		return nil, false
	}
	return n.Content, true
}

// manifests reads the objects created at time zero.
func (p *parser) manifests(n *yaml.Node) []apiserver.Object {
	if _, ok := p.list(n, "manifests", "a list of files (- path: x.yaml), inline manifests (- inline: |) or objects"); !ok {
		return nil
	}
	docs := p.sources(n, "manifests")
	dryRunCreate(&p.errs, docs)
	return objectsOf(docs)
}

// steps reads the list of steps, leaving out those with errors.
func (p *parser) steps(n *yaml.Node, clusterOK bool) []Step {
	items, _ := p.list(n, "steps", "a list of steps")
	var out []Step
	for i, s := range items {
		if st, ok := p.step(i, s, clusterOK); ok {
			out = append(out, st)
		}
	}
	return out
}

// expect reads what the run checks.
func (p *parser) expect(ex *Expect, n *yaml.Node) {
	v := content(n)
	switch {
	case v == nil || isNull(v):
		return
	case v.Kind != yaml.MappingNode:
		p.fail(v, "expect", "Invalid value: expected convergeWithin, stableFor and maxOvershoot")
		return
	}
	f := p.fields(v, "expect", expectKeys)
	if e, ok := f["convergeWithin"]; ok {
		ex.ConvergeWithin, _ = p.positiveDuration(e.val, "expect.convergeWithin")
	}
	if e, ok := f["stableFor"]; ok {
		ex.StableFor, _ = p.positiveDuration(e.val, "expect.stableFor")
	}
	if e, ok := f["maxOvershoot"]; ok {
		if n, ok := p.intNode(e.val, "expect.maxOvershoot", 0, 1<<31); ok {
			m := int(n)
			ex.MaxOvershoot = &m
		}
	}
}

// runDefaults reads run: the strategy and seed ctrlsim run uses unless told.
func (p *parser) runDefaults(run *RunDefaults, n *yaml.Node) {
	v := content(n)
	if v == nil || v.Kind != yaml.MappingNode {
		p.fail(v, "run", "Invalid value: expected strategy and seed (what ctrlsim run uses unless told otherwise)")
		return
	}
	r := p.fields(v, "run", runKeys)
	if e, ok := r["strategy"]; ok {
		run.Strategy, _ = p.str(e.val, "run.strategy")
	}
	if e, ok := r["seed"]; ok {
		if s, ok := p.str(e.val, "run.seed"); ok {
			if n, err := strconv.ParseUint(s, 10, 64); err != nil {
				p.fail(content(e.val), "run.seed", fmt.Sprintf("Invalid value: %q: a seed is a whole number, 0 or more", s))
			} else {
				run.Seed = &n
			}
		}
	}
}

// sources reads a list of manifest sources (or one source).
func (p *parser) sources(n *yaml.Node, path string) []*manifestDoc {
	n = content(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		var out []*manifestDoc
		for i, el := range n.Content {
			out = append(out, p.source(content(el), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	return p.source(n, path)
}

// source reads one manifest source: a file path, {path: f}, {inline: text},
// or an object written in place.
func (p *parser) source(n *yaml.Node, path string) []*manifestDoc {
	before := len(p.errs.list)
	switch {
	case n == nil || isNull(n):
		p.fail(n, path, "Required value: a file (path: x.yaml), an inline manifest (inline: |) or an object")
		return nil
	case n.Kind == yaml.ScalarNode:
		return p.manifestFile(n, path, n.Value)
	case n.Kind != yaml.MappingNode:
		p.fail(n, path, "Invalid value: expected a file (path: x.yaml), an inline manifest (inline: |) or an object")
		return nil
	}
	kAV, _ := lookup(n, "apiVersion")
	kKind, _ := lookup(n, "kind")
	if kAV != nil || kKind != nil {
		if d := decodeObject(&p.errs, p.file, n); d != nil {
			return []*manifestDoc{d}
		}
		return nil
	}
	f := p.fields(n, path, sourceKeys)
	pe, hasPath := f["path"]
	ie, hasInline := f["inline"]
	switch {
	case hasPath && hasInline:
		p.fail(ie.key, path, "Forbidden: path and inline in one entry: give one per entry")
	case hasPath:
		if s, ok := p.str(pe.val, path+".path"); ok {
			return p.manifestFile(content(pe.val), path+".path", s)
		}
	case hasInline:
		v := content(ie.val)
		s, ok := p.str(v, path+".inline")
		if !ok {
			return nil
		}
		offset := v.Line - 1
		if v.Style&yaml.LiteralStyle != 0 {
			offset = v.Line // the text starts on the line after "inline: |"
		}
		docs := decodeStream(&p.errs, p.file, []byte(s), offset)
		if len(docs) == 0 && len(p.errs.list) == before {
			p.fail(v, path+".inline", "Required value: no objects")
		}
		return docs
	case len(f) == 0 && len(p.errs.list) == before:
		p.fail(n, path, "Required value: a file (path: x.yaml), an inline manifest (inline: |) or an object (apiVersion, kind, …)")
	}
	return nil
}

// manifestFile reads a manifest file named relative to the scenario file.
func (p *parser) manifestFile(n *yaml.Node, field, rel string) []*manifestDoc {
	before := len(p.errs.list)
	if rel == "" {
		p.fail(n, field, "Required value: a manifest file")
		return nil
	}
	full := rel
	if !filepath.IsAbs(rel) {
		full = filepath.Join(filepath.Dir(p.file), rel)
	}
	if p.read == nil {
		p.fail(n, field, fmt.Sprintf("Invalid value: %q: manifest files cannot be read here: write the manifest inline", rel))
		return nil
	}
	data, err := p.read(full)
	if err != nil {
		p.fail(n, field, fmt.Sprintf("Invalid value: %q: %v", rel, err))
		return nil
	}
	docs := decodeStream(&p.errs, full, data, 0)
	if len(docs) == 0 && len(p.errs.list) == before {
		p.fail(n, field, fmt.Sprintf("Invalid value: %q: the file holds no objects", rel))
	}
	return docs
}

// load reads the CPU load schedule: a list of {at, target, cpu}.
func (p *parser) load(n *yaml.Node) []LoadPoint {
	items, _ := p.list(n, "load", "a list of {at: 2m, target: rs/frontend, cpu: 90} (cpu in percent of the pods' CPU request)")
	var out []LoadPoint
	var last time.Duration
	for i, el := range items {
		path := fmt.Sprintf("load[%d]", i)
		el = content(el)
		if el == nil || el.Kind != yaml.MappingNode {
			p.fail(el, path, "Invalid value: expected {at: 2m, target: rs/frontend, cpu: 90}")
			continue
		}
		before := len(p.errs.list)
		f := p.fields(el, path, loadKeys)
		var lp LoadPoint
		if e, ok := f["at"]; !ok {
			p.fail(el, path+".at", "Required value: when the load starts (at: 0s)")
		} else if d, ok := p.durationNode(content(e.val), path+".at"); ok {
			switch {
			case d < 0:
				p.fail(e.val, path+".at", fmt.Sprintf("Invalid value: %q: must be 0s or later", content(e.val).Value))
			case d < last:
				p.fail(e.val, path+".at", fmt.Sprintf("Invalid value: %q: earlier than the point before it (%v): write the load in time order", content(e.val).Value, last))
			default:
				lp.At, last = d, d
			}
		}
		if e, ok := f["target"]; ok {
			if s, ok := p.str(e.val, path+".target"); ok {
				kind, name, err := ParseTarget(s)
				switch {
				case err != nil:
					p.fail(e.val, path+".target", fmt.Sprintf("Invalid value: %q: %v", s, err))
				case !podKinds[kind]:
					p.fail(e.val, path+".target", fmt.Sprintf("Invalid value: %q: a %s has no pods (the load goes on the pods of a Deployment, ReplicaSet, ReplicationController, StatefulSet or DaemonSet, or a pod)", s, kind))
				case name == "":
					p.fail(e.val, path+".target", fmt.Sprintf("Invalid value: %q: no name: name one object (%s/NAME); leave target out for every pod", s, strings.TrimSuffix(s, "/")))
				}
				lp.Target = s
			}
		}
		if e, ok := f["cpu"]; !ok {
			p.fail(el, path+".cpu", "Required value: the CPU use in percent of the pods' request (cpu: 90)")
		} else if c, ok := p.intNode(e.val, path+".cpu", 0, 100_000); ok {
			lp.CPU = int32(c)
		}
		if len(p.errs.list) == before {
			out = append(out, lp)
		}
	}
	return out
}
