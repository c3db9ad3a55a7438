package workloads

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	yaml "go.yaml.in/yaml/v3"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
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
// Every step has one action; the actions and their options are in stepOptions.
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
// rollout history found"). rollout-undo and rolling-update parse, but fail
// when run until their model and actor land (Step.Unsupported).

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

// knownReasons are the API status reasons a step may expect.
var knownReasons = map[metav1.StatusReason]bool{
	metav1.StatusReasonConflict: true, metav1.StatusReasonNotFound: true, metav1.StatusReasonAlreadyExists: true,
	metav1.StatusReasonInvalid: true, metav1.StatusReasonForbidden: true, metav1.StatusReasonBadRequest: true,
	metav1.StatusReasonGone: true, metav1.StatusReasonTooManyRequests: true, metav1.StatusReasonTimeout: true,
	metav1.StatusReasonServerTimeout: true, metav1.StatusReasonInternalError: true,
}

// The actions a step can name, and the options each takes besides at, after
// and timeout.
var (
	actionNames = []string{"create", "apply", "scale", "annotate", "label", "delete", "cordon", "uncordon", "wait", "lose-node", "return-node",
		"set-image", "rollout-undo", "rollout-pause", "rollout-resume", "rolling-update", "drain", "add-node", "delete-node"}
	stepCommon  = []string{"at", "after", "timeout", "expectError", "expectErrorMessage"}
	stepOptions = map[Action][]string{
		Scale:         {"replicas", "currentReplicas", "resourceVersion", "selector", "limit"},
		Annotate:      {"set", "selector", "limit", "overwrite"},
		Label:         {"set", "selector", "limit", "overwrite"},
		DeleteObj:     {"cascade", "gracePeriod", "selector", "limit"},
		SetImage:      {"image", "selector", "limit"},
		RolloutUndo:   {"toRevision"},
		RollingUpdate: {"to", "image", "container", "updatePeriod", "pollInterval", "updateTimeout"},
		Drain:         {"gracePeriod"},
	}
	topKeys    = []string{"name", "summary", "heavy", "cluster", "manifests", "steps", "load", "expect", "faults", "run"}
	runKeys    = []string{"strategy", "seed"}
	expectKeys = []string{"convergeWithin", "stableFor", "maxOvershoot"}
	sourceKeys = []string{"path", "inline"}
	loadKeys   = []string{"at", "target", "cpu"}
	// scalable kinds have the scale subresource.
	scalable = map[apiserver.Kind]bool{apiserver.ReplicaSets: true, apiserver.ReplicationControllers: true, apiserver.Deployments: true, apiserver.StatefulSets: true}
	// The kinds each object action takes (any kind when not listed), and how
	// to say so.
	actionKinds = map[Action]struct {
		kinds []apiserver.Kind
		say   string
	}{
		SetImage:      {[]apiserver.Kind{apiserver.Deployments, apiserver.ReplicaSets, apiserver.ReplicationControllers, apiserver.StatefulSets, apiserver.DaemonSets}, "set-image sets the pod template of a Deployment, ReplicaSet, ReplicationController, StatefulSet or DaemonSet"},
		RolloutUndo:   {[]apiserver.Kind{apiserver.Deployments, apiserver.DaemonSets, apiserver.StatefulSets}, "rollout-undo rolls back a Deployment, DaemonSet or StatefulSet"},
		RolloutPause:  {[]apiserver.Kind{apiserver.Deployments}, "rollout-pause pauses a Deployment"},
		RolloutResume: {[]apiserver.Kind{apiserver.Deployments}, "rollout-resume resumes a Deployment"},
		RollingUpdate: {[]apiserver.Kind{apiserver.ReplicationControllers}, "rolling-update replaces a ReplicationController (deployments roll with set-image)"},
	}
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
	top := p.fields(root, "", topKeys)
	sc := &Scenario{Source: p.file}

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
		if v := content(e.val); v != nil && !isNull(v) {
			if v.Kind != yaml.SequenceNode {
				p.fail(v, "manifests", "Invalid value: expected a list of files (- path: x.yaml), inline manifests (- inline: |) or objects")
			} else {
				docs := p.sources(v, "manifests")
				dryRunCreate(&p.errs, docs)
				sc.Objects = objectsOf(docs)
			}
		}
	}

	if e, ok := top["steps"]; ok {
		v := content(e.val)
		switch {
		case v == nil || isNull(v):
		case v.Kind != yaml.SequenceNode:
			p.fail(v, "steps", "Invalid value: expected a list of steps")
		default:
			for i, s := range v.Content {
				if st, ok := p.step(i, s, clusterOK); ok {
					sc.Steps = append(sc.Steps, st)
				}
			}
		}
	}

	if e, ok := top["load"]; ok {
		sc.Load = p.load(e.val)
	}

	if e, ok := top["expect"]; ok {
		if v := content(e.val); v != nil && !isNull(v) {
			if v.Kind != yaml.MappingNode {
				p.fail(v, "expect", "Invalid value: expected convergeWithin, stableFor and maxOvershoot")
			} else {
				ex := p.fields(v, "expect", expectKeys)
				if f, ok := ex["convergeWithin"]; ok {
					sc.Expect.ConvergeWithin, _ = p.positiveDuration(f.val, "expect.convergeWithin")
				}
				if f, ok := ex["stableFor"]; ok {
					sc.Expect.StableFor, _ = p.positiveDuration(f.val, "expect.stableFor")
				}
				if f, ok := ex["maxOvershoot"]; ok {
					if n, ok := p.intNode(f.val, "expect.maxOvershoot", 0, 1<<31); ok {
						m := int(n)
						sc.Expect.MaxOvershoot = &m
					}
				}
			}
		}
	}

	if e, ok := top["faults"]; ok {
		sc.Faults = p.faultPlan(e.val, "faults", clusterOK)
	}
	if e, ok := top["run"]; ok {
		if v := content(e.val); v == nil || v.Kind != yaml.MappingNode {
			p.fail(v, "run", "Invalid value: expected strategy and seed (what ctrlsim run uses unless told otherwise)")
		} else {
			r := p.fields(v, "run", runKeys)
			if f, ok := r["strategy"]; ok {
				sc.Run.Strategy, _ = p.str(f.val, "run.strategy")
			}
			if f, ok := r["seed"]; ok {
				if s, ok := p.str(f.val, "run.seed"); ok {
					if n, err := strconv.ParseUint(s, 10, 64); err != nil {
						p.fail(content(f.val), "run.seed", fmt.Sprintf("Invalid value: %q: a seed is a whole number, 0 or more", s))
					} else {
						sc.Run.Seed = &n
					}
				}
			}
		}
	}
	sc.Defaults()
	return sc
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

// step reads one step.
func (p *parser) step(i int, n *yaml.Node, clusterOK bool) (Step, bool) {
	path := fmt.Sprintf("steps[%d]", i)
	n = content(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.fail(n, path, "Invalid value: a step is a mapping: at (or after), then one action, e.g. scale: rs/frontend")
		return Step{}, false
	}
	before := len(p.errs.list)
	es, dups := entries(n)
	p.reportDups(dups, path)
	var allKeys []string
	allKeys = append(append(allKeys, actionNames...), stepCommon...)
	allKeys = append(allKeys, sortedOptions()...)
	var acts []kv
	for _, e := range es {
		if e.key.Kind != yaml.ScalarNode {
			p.fail(e.key, path, "a key must be a string")
			continue
		}
		if !contains(allKeys, e.key.Value) {
			p.unknownField(e.key, path, e.key.Value, allKeys)
			continue
		}
		if contains(actionNames, e.key.Value) {
			acts = append(acts, e)
		}
	}
	switch len(acts) {
	case 0:
		p.fail(n, path, "Required value: no action: a step needs one of "+strings.Join(actionNames, ", "))
		return Step{}, false
	case 1:
	default:
		p.fail(acts[1].key, path, fmt.Sprintf("Forbidden: %s and %s: one action per step", acts[0].key.Value, acts[1].key.Value))
		return Step{}, false
	}
	act := acts[0]
	st := Step{Action: Action(act.key.Value), Timeout: DefaultTimeout}
	allowed := append(append([]string{act.key.Value}, stepCommon...), stepOptions[st.Action]...)
	opts := map[string]kv{}
	for _, e := range es {
		k := e.key.Value
		if e.key.Kind != yaml.ScalarNode || contains(actionNames, k) {
			continue
		}
		switch {
		case contains(allowed, k):
			opts[k] = e
		case contains(allKeys, k):
			p.fail(e.key, path+"."+k, fmt.Sprintf("Forbidden: not an option of %s%s", st.Action, optionList(st.Action)))
		}
	}

	// When.
	if e, ok := opts["at"]; ok {
		if d, ok := p.durationNode(content(e.val), path+".at"); ok {
			if d < 0 {
				p.fail(e.val, path+".at", fmt.Sprintf("Invalid value: %q: must be 0s or later", e.val.Value))
			} else if d < p.lastAt {
				p.fail(e.val, path+".at", fmt.Sprintf("Invalid value: %q: earlier than a step before it (%v): steps run in the order they are written", e.val.Value, p.lastAt))
			} else {
				st.At, p.lastAt = d, d
			}
		}
	}
	condText, condNode := "", (*yaml.Node)(nil)
	if e, ok := opts["after"]; ok {
		condNode = content(e.val)
		condText, _ = p.str(condNode, path+".after")
		if st.Action == Wait {
			p.fail(e.key, path+".after", "Forbidden: wait takes its condition itself (wait: rs/frontend ready=3)")
			condText = ""
		}
	}
	if st.Action == Wait {
		condNode = content(act.val)
		condText, _ = p.str(condNode, path+".wait")
	}
	if condText != "" {
		field := path + ".after"
		if st.Action == Wait {
			field = path + ".wait"
		}
		c, err := ParseCondition(condText)
		if err != nil {
			p.fail(condNode, field, fmt.Sprintf("Invalid value: %q: %v", condText, err))
		} else {
			st.After = c
		}
	}
	if e, ok := opts["timeout"]; ok {
		if _, hasAfter := opts["after"]; !hasAfter && st.Action != Wait {
			detail := "Forbidden: timeout goes with after (or wait): a step at a time does not wait"
			if st.Action == RollingUpdate {
				detail += "; kubectl rolling-update's --timeout is updateTimeout"
			}
			p.fail(e.key, path+".timeout", detail)
		} else if d, ok := p.positiveDuration(e.val, path+".timeout"); ok {
			st.Timeout = d
		}
	}
	if e, ok := opts["expectError"]; ok {
		if v, ok := p.str(e.val, path+".expectError"); ok {
			if !knownReasons[metav1.StatusReason(v)] {
				p.fail(e.val, path+".expectError", fmt.Sprintf("Unsupported value: %q: an API status reason such as Conflict, NotFound, AlreadyExists, Invalid", v))
			} else {
				st.ExpectError = metav1.StatusReason(v)
			}
		}
	}
	if e, ok := opts["expectErrorMessage"]; ok {
		if v, ok := p.str(e.val, path+".expectErrorMessage"); ok {
			if strings.TrimSpace(v) == "" {
				p.fail(e.val, path+".expectErrorMessage", "Required value: text the error must contain, e.g. no rollout history found")
			}
			st.ExpectErrorMessage = v
		}
	}
	if _, ok := opts["at"]; !ok && st.After == nil {
		st.At = p.lastAt // right after the step before
	}

	// What.
	field := path + "." + act.key.Value
	switch st.Action {
	case Create, Apply:
		docs := p.sources(act.val, field)
		if st.Action == Apply {
			for _, d := range docs {
				if d.obj != nil && d.obj.GetName() == "" {
					p.errs.add(&Error{File: d.file, Line: d.node.Line, Object: d.label, Field: "metadata.name", Detail: "Required value: apply needs a name (generateName is for create)"})
				}
			}
		}
		dryRunCreate(&p.errs, docs)
		st.Objects = objectsOf(docs)
		if len(docs) == 0 && len(p.errs.list) == before {
			p.fail(act.val, field, "Required value: no objects")
		}
	case Wait:
	case LoseNode, ReturnNode, Cordon, Uncordon, Drain, DeleteNode:
		if s, ok := p.str(act.val, field); ok {
			name, ok := p.nodeName(act.val, field, s)
			if !ok {
				break
			}
			if clusterOK && !p.nodes[name] {
				p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: no such node in the cluster (nodes: %s)", s, listSome(p.nodeNames, 10)))
				break
			}
			st.Target = "node/" + name
			if st.Action == DeleteNode && clusterOK {
				p.removeNode(name)
			}
		}
		if e, ok := opts["gracePeriod"]; ok {
			if v, ok := p.intNode(e.val, path+".gracePeriod", 0, 1<<62); ok {
				st.GracePeriod = &v
			}
		}
	case AddNode:
		p.addNode(&st, act.val, field, clusterOK)
	default:
		p.objectStep(&st, act, opts, path)
	}
	return st, len(p.errs.list) == before
}

// objectStep reads the target and options of scale, annotate, label and delete.
func (p *parser) objectStep(st *Step, act kv, opts map[string]kv, path string) {
	field := path + "." + act.key.Value
	target, ok := p.str(act.val, field)
	if !ok {
		return
	}
	if t := strings.TrimSpace(target); strings.ContainsAny(t, " \t") {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: one object (kind/name): give the rest as the step's options%s", target, optionList(st.Action)))
		return
	}
	kind, name, err := ParseTarget(target)
	if err != nil {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: %v", target, err))
		return
	}
	st.Target = target
	if st.Action == Scale && !scalable[kind] {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: a %s has no scale subresource (scale a ReplicaSet, ReplicationController, Deployment or StatefulSet)", target, kind))
	}
	if ak, ok := actionKinds[st.Action]; ok && !slices.Contains(ak.kinds, kind) {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: not a %s: %s", target, kindList(ak.kinds), ak.say))
	}
	se, hasSel := opts["selector"]
	takesSelector := contains(stepOptions[st.Action], "selector")
	switch {
	case !takesSelector && name == "":
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: no name: %s names one object (%s/NAME)", target, st.Action, strings.TrimSuffix(target, "/")))
	case hasSel && name != "":
		p.fail(se.key, path+".selector", fmt.Sprintf("Forbidden: a selector with a name (%s): give one or the other", target))
	case hasSel:
		if s, ok := p.str(se.val, path+".selector"); ok {
			if _, err := labels.Parse(s); err != nil {
				p.fail(se.val, path+".selector", fmt.Sprintf("Invalid value: %q: %v", s, err))
			} else if s == "" {
				p.fail(se.val, path+".selector", "Required value: a label selector, e.g. tier=frontend")
			}
			st.Selector = s
		}
	case name == "":
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: no name and no selector: name one object (%s/NAME) or select some (selector: key=value)", target, strings.TrimSuffix(target, "/")))
	}
	if e, ok := opts["limit"]; ok {
		if !hasSel {
			p.fail(e.key, path+".limit", "Forbidden: limit goes with a selector")
		} else if v, ok := p.intNode(e.val, path+".limit", 1, 1<<31-1); ok {
			st.Limit = int(v)
		}
	}
	switch st.Action {
	case Scale:
		if e, ok := opts["replicas"]; !ok {
			p.fail(act.key, path+".replicas", "Required value: the number of replicas to scale to")
		} else if v, ok := p.intNode(e.val, path+".replicas", 0, 1<<31-1); ok {
			st.Replicas = int32(v)
		}
		if e, ok := opts["currentReplicas"]; ok {
			if v, ok := p.intNode(e.val, path+".currentReplicas", 0, 1<<31-1); ok {
				c := int32(v)
				st.CurrentReplicas = &c
			}
		}
		if e, ok := opts["resourceVersion"]; ok {
			if v, ok := p.str(e.val, path+".resourceVersion"); ok {
				if v == "" {
					p.fail(e.val, path+".resourceVersion", "Required value")
				}
				st.ResourceVersion = v
			}
		}
	case Annotate, Label:
		e, ok := opts["set"]
		if !ok {
			p.fail(act.key, path+".set", "Required value: the keys to set (set: {key: value}) or remove (set: [key-])")
			return
		}
		st.Set, st.Remove = p.setArgs(e.val, path+".set", st.Action == Label)
		if o, ok := opts["overwrite"]; ok {
			st.Overwrite, _ = p.boolNode(o.val, path+".overwrite")
		}
	case DeleteObj:
		if e, ok := opts["cascade"]; ok {
			if v, ok := p.str(e.val, path+".cascade"); ok {
				switch v {
				case "background", "foreground", "orphan":
					st.Cascade = v
				default:
					p.fail(e.val, path+".cascade", fmt.Sprintf("Unsupported value: %q: supported values: \"background\", \"foreground\", \"orphan\"", v))
				}
			}
		}
		if e, ok := opts["gracePeriod"]; ok {
			if v, ok := p.intNode(e.val, path+".gracePeriod", 0, 1<<62); ok {
				st.GracePeriod = &v
			}
		}
	case SetImage:
		e, ok := opts["image"]
		if !ok {
			p.fail(act.key, path+".image", "Required value: the images to set, by container: image: {nginx: nginx:1.91} (* for every container)")
			return
		}
		st.Images = p.images(e.val, path+".image")
	case RolloutUndo:
		if e, ok := opts["toRevision"]; ok {
			if v, ok := p.intNode(e.val, path+".toRevision", 0, 1<<62); ok {
				st.ToRevision = v
			}
		}
	case RollingUpdate:
		p.rollingUpdate(st, act, opts, path, name)
	}
}

// rollingUpdate reads the options of rolling-update: the new
// ReplicationController (to) or the new image, and kubectl's timing flags.
func (p *parser) rollingUpdate(st *Step, act kv, opts map[string]kv, path, oldName string) {
	before := len(p.errs.list)
	to, hasTo := opts["to"]
	img, hasImage := opts["image"]
	ctr, hasContainer := opts["container"]
	switch {
	case hasTo && hasImage:
		p.fail(img.key, path+".image", "Forbidden: to and image in one step: give the new ReplicationController (to:) or the new image (image:)")
	case !hasTo && !hasImage:
		p.fail(act.key, path+".to", "Required value: the new ReplicationController (to: a file, inline manifest or object, as create takes) or the new image (image: nginx:1.9.1)")
	case hasTo:
		if hasContainer {
			p.fail(ctr.key, path+".container", "Forbidden: container goes with image")
		}
		docs := p.sources(to.val, path+".to")
		dryRunCreate(&p.errs, docs)
		objs := objectsOf(docs)
		switch {
		case len(p.errs.list) > before:
		case len(objs) != 1:
			p.fail(to.val, path+".to", fmt.Sprintf("Invalid value: %d objects: the new ReplicationController, one object", len(objs)))
		case apiserver.KindOf(objs[0]) != apiserver.ReplicationControllers:
			p.fail(to.val, path+".to", fmt.Sprintf("Invalid value: a %s: the new ReplicationController", apiserver.KindOf(objs[0])))
		case objs[0].GetName() == "":
			p.fail(to.val, path+".to", "Required value: the new ReplicationController needs a name (metadata.name)")
		case objs[0].GetName() == oldName:
			p.fail(to.val, path+".to", fmt.Sprintf("Invalid value: %q: the new ReplicationController needs a name other than the old one's", oldName))
		default:
			st.Objects = objs
		}
	case hasImage:
		if v, ok := p.str(img.val, path+".image"); ok {
			if strings.ContainsAny(v, "= \t") || v == "" {
				p.fail(img.val, path+".image", fmt.Sprintf("Invalid value: %q: one image (kubectl rolling-update --image), e.g. nginx:1.9.1; the container goes in container:", v))
			}
			st.Image = v
		}
		if hasContainer {
			if v, ok := p.str(ctr.val, path+".container"); ok {
				for _, msg := range validation.IsDNS1123Label(v) {
					p.fail(ctr.val, path+".container", fmt.Sprintf("Invalid value: %q: %s", v, msg))
				}
				st.Container = v
			}
		}
	}
	st.UpdatePeriod, st.PollInterval, st.UpdateTimeout = DefaultUpdatePeriod, DefaultPollInterval, DefaultUpdateTimeout
	for _, d := range []struct {
		key string
		to  *time.Duration
	}{{"updatePeriod", &st.UpdatePeriod}, {"pollInterval", &st.PollInterval}, {"updateTimeout", &st.UpdateTimeout}} {
		if e, ok := opts[d.key]; ok {
			if v, ok := p.positiveDuration(e.val, path+"."+d.key); ok {
				*d.to = v
			}
		}
	}
}

// images reads set-image's container=image pairs: a mapping {container:
// image}, a list of kubectl arguments [container=image], or those arguments
// in one string. The container * is every container.
func (p *parser) images(n *yaml.Node, path string) map[string]string {
	n = content(n)
	before := len(p.errs.list)
	out := map[string]string{}
	put := func(node *yaml.Node, k, v string) {
		field := path + "[" + k + "]"
		if _, dup := out[k]; dup {
			p.fail(node, field, fmt.Sprintf("Duplicate value: %q", k))
			return
		}
		if k != "*" {
			for _, msg := range validation.IsDNS1123Label(k) {
				p.fail(node, field, fmt.Sprintf("Invalid value: %q: a container name: %s", k, msg))
			}
		}
		if v == "" || strings.ContainsAny(v, " \t=") {
			p.fail(node, field, fmt.Sprintf("Invalid value: %q: an image, e.g. nginx:1.9.1", v))
		}
		out[k] = v
	}
	arg := func(node *yaml.Node, a string) {
		if k, v, ok := strings.Cut(a, "="); ok && k != "" {
			put(node, k, v)
		} else {
			p.fail(node, path, fmt.Sprintf("Invalid value: %q: expected container=image (as kubectl set image), or {container: image}", a))
		}
	}
	switch {
	case n == nil || isNull(n):
	case n.Kind == yaml.MappingNode:
		es, dups := entries(n)
		p.reportDups(dups, path)
		for _, e := range es {
			v := content(e.val)
			if v == nil || isNull(v) || v.Kind != yaml.ScalarNode {
				p.fail(e.key, path+"["+e.key.Value+"]", "Required value: an image, e.g. nginx:1.9.1")
				continue
			}
			put(e.key, e.key.Value, v.Value)
		}
	case n.Kind == yaml.SequenceNode || n.Kind == yaml.ScalarNode:
		p.args(n, path, "container=image", arg)
	default:
		p.fail(n, path, "Invalid value: expected {container: image}, or a list of container=image")
	}
	if len(out) == 0 {
		if len(p.errs.list) == before {
			p.fail(n, path, "Required value: no images: {container: image}")
		}
		return nil
	}
	return out
}

// nodeName reads a node named "node-2" or "node/node-2".
func (p *parser) nodeName(n *yaml.Node, field, s string) (string, bool) {
	if kind, name, err := ParseTarget(s); err == nil && strings.Contains(s, "/") {
		if kind != apiserver.Nodes || name == "" {
			p.fail(n, field, fmt.Sprintf("Invalid value: %q: expected a node: node/<name>", s))
			return "", false
		}
		return name, true
	}
	return s, true
}

func (p *parser) removeNode(name string) {
	delete(p.nodes, name)
	p.nodeNames = slices.DeleteFunc(p.nodeNames, func(n string) bool { return n == name })
}

// addNode reads the node add-node adds: a name (node-4, node/node-4) or a
// node as the cluster's nodes are written ({name, labels, zone, capacity,
// unschedulable, taints}).
func (p *parser) addNode(st *Step, n *yaml.Node, fp string, clusterOK bool) {
	v := content(n)
	var spec cluster.NodeSpec
	before := len(p.errs.list)
	switch {
	case v == nil || isNull(v):
		p.fail(v, fp, "Required value: the node: add-node: node-4, or {name: node-4, labels: {…}, zone: …}")
		return
	case v.Kind == yaml.ScalarNode:
		name, ok := p.nodeName(v, fp, v.Value)
		if !ok {
			return
		}
		spec.Name = name
	case v.Kind == yaml.MappingNode:
		jv := p.jsonValue(v, reflect.TypeOf(cluster.NodeSpec{}), fp, 0)
		if len(p.errs.list) > before {
			return
		}
		data, err := json.Marshal(jv)
		if err == nil {
			err = json.Unmarshal(data, &spec)
		}
		if err != nil {
			p.fail(v, fp, err.Error())
			return
		}
	default:
		p.fail(v, fp, "Invalid value: expected a node name or {name, labels, zone, capacity, unschedulable, taints}")
		return
	}
	cfg := cluster.Config{Nodes: []cluster.NodeSpec{spec}}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		var agg utilerrors.Aggregate
		if !errors.As(err, &agg) {
			p.fail(v, fp, err.Error())
			return
		}
		for _, e := range agg.Errors() {
			var fe *field.Error
			if !errors.As(e, &fe) {
				p.fail(v, fp, e.Error())
				continue
			}
			sub := strings.TrimPrefix(strings.TrimPrefix(fe.Field, "nodes[0]"), ".")
			line := v.Line
			if v.Kind == yaml.MappingNode && sub != "" {
				line = lineOf(v, sub)
			}
			p.errs.add(&Error{File: p.file, Line: line, Field: joinPath(fp, sub), Detail: fe.ErrorBody()})
		}
		return
	}
	if clusterOK && p.nodes[spec.Name] {
		p.fail(v, fp, fmt.Sprintf("Duplicate value: %q: the cluster has that node already", spec.Name))
		return
	}
	st.Node, st.Target = &spec, "node/"+spec.Name
	if clusterOK {
		p.nodes[spec.Name] = true
		p.nodeNames = append(p.nodeNames, spec.Name)
	}
}

// load reads the CPU load schedule: a list of {at, target, cpu}.
func (p *parser) load(n *yaml.Node) []LoadPoint {
	v := content(n)
	switch {
	case v == nil || isNull(v):
		return nil
	case v.Kind != yaml.SequenceNode:
		p.fail(v, "load", "Invalid value: expected a list of {at: 2m, target: rs/frontend, cpu: 90} (cpu in percent of the pods' CPU request)")
		return nil
	}
	var out []LoadPoint
	var last time.Duration
	for i, el := range v.Content {
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

// kindList is "a Deployment, DaemonSet or StatefulSet".
func kindList(kinds []apiserver.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// setArgs reads what annotate and label set and remove: a mapping
// {key: value} (a key written "key-" with no value removes it), a list of
// kubectl arguments [key=value, key-], or those arguments in one string.
func (p *parser) setArgs(n *yaml.Node, path string, isLabel bool) (map[string]string, []string) {
	n = content(n)
	before := len(p.errs.list)
	set := map[string]string{}
	var remove []string
	arg := func(node *yaml.Node, a string) {
		if k, v, ok := strings.Cut(a, "="); ok {
			set[k] = v
		} else if k, ok := strings.CutSuffix(a, "-"); ok && k != "" {
			remove = append(remove, k)
		} else {
			p.fail(node, path, fmt.Sprintf("Invalid value: %q: expected key=value, or key- to remove the key", a))
		}
	}
	switch {
	case n == nil || isNull(n):
	case n.Kind == yaml.MappingNode:
		es, dups := entries(n)
		p.reportDups(dups, path)
		for _, e := range es {
			v := content(e.val)
			k := e.key.Value
			switch {
			case strings.HasSuffix(k, "-") && (v == nil || isNull(v) || v.Value == ""):
				remove = append(remove, strings.TrimSuffix(k, "-"))
			case v == nil || isNull(v) || v.Kind != yaml.ScalarNode:
				p.fail(e.key, path+"["+k+"]", "Required value: a value (or write the key as "+k+"- to remove it)")
			default:
				set[k] = v.Value
			}
		}
	case n.Kind == yaml.SequenceNode || n.Kind == yaml.ScalarNode:
		p.args(n, path, "key=value or key-", arg)
	default:
		p.fail(n, path, "Invalid value: expected {key: value}, or a list of key=value and key-")
	}
	if len(set) == 0 && len(remove) == 0 {
		if len(p.errs.list) == before {
			p.fail(n, path, "Required value: nothing to set or remove")
		}
		return nil, nil
	}
	sort.Strings(remove)
	var errs field.ErrorList
	fp := field.NewPath(path)
	for _, k := range sortedKeys(set) { // one at a time: the validators walk maps
		one := map[string]string{k: set[k]}
		if isLabel {
			errs = append(errs, metav1validation.ValidateLabels(one, fp)...)
		} else {
			errs = append(errs, apivalidation.ValidateAnnotations(one, fp)...)
		}
	}
	for _, k := range remove {
		if _, both := set[k]; both {
			errs = append(errs, field.Invalid(fp, k, "set and removed in one step"))
		}
		errs = append(errs, metav1validation.ValidateLabelName(k, fp)...)
	}
	for _, e := range errs {
		p.fail(n, e.Field, e.ErrorBody())
	}
	if len(set) == 0 {
		set = nil
	}
	return set, remove
}

// Scalars.

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

func sortedOptions() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range actionNames {
		for _, o := range stepOptions[Action(a)] {
			if !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	return out
}

func optionList(a Action) string {
	if len(stepOptions[a]) == 0 {
		return " (it takes only at, after and timeout)"
	}
	return " (its options: " + strings.Join(stepOptions[a], ", ") + ")"
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
