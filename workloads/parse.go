package workloads

import (
	"fmt"
	"io/fs"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"os"
	"path/filepath"
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
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A scenario file is YAML: what the cluster is, which manifests exist at the
// start, and what a user then does, the way they would do it with kubectl.
//
//	name: rs-self-heal                 # default: the file name without .yaml
//	summary: replicas 3, a node lost, back to 3
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
//	expect:
//	  convergeWithin: 5m
//	  stableFor: 30s
//	faults: []                         # reserved: must be empty
//
// Every step has one action; the actions and their options are in stepOptions.

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
	actionNames  = []string{"create", "apply", "scale", "annotate", "label", "delete", "cordon", "uncordon", "wait", "lose-node", "return-node"}
	stepCommon   = []string{"at", "after", "timeout", "expectError"}
	stepOptions  = map[Action][]string{Scale: {"replicas", "currentReplicas", "resourceVersion", "selector", "limit"}, Annotate: {"set", "selector", "limit"}, Label: {"set", "selector", "limit"}, DeleteObj: {"cascade", "gracePeriod", "selector", "limit"}}
	reservedActs = []string{"set-image", "rollout-undo", "rollout-pause", "rollout-resume", "rolling-update", "drain"}
	topKeys      = []string{"name", "summary", "cluster", "manifests", "steps", "expect", "faults"}
	expectKeys   = []string{"convergeWithin", "stableFor"}
	sourceKeys   = []string{"path", "inline"}
	// scalable kinds have the scale subresource.
	scalable = map[apiserver.Kind]bool{apiserver.ReplicaSets: true, apiserver.ReplicationControllers: true, apiserver.Deployments: true, apiserver.StatefulSets: true}
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

	if e, ok := top["expect"]; ok {
		if v := content(e.val); v != nil && !isNull(v) {
			if v.Kind != yaml.MappingNode {
				p.fail(v, "expect", "Invalid value: expected convergeWithin and stableFor")
			} else {
				ex := p.fields(v, "expect", expectKeys)
				if f, ok := ex["convergeWithin"]; ok {
					sc.Expect.ConvergeWithin, _ = p.positiveDuration(f.val, "expect.convergeWithin")
				}
				if f, ok := ex["stableFor"]; ok {
					sc.Expect.StableFor, _ = p.positiveDuration(f.val, "expect.stableFor")
				}
			}
		}
	}

	if e, ok := top["faults"]; ok {
		if v := content(e.val); v != nil && !isNull(v) && !(v.Kind == yaml.SequenceNode && len(v.Content) == 0) {
			p.fail(e.key, "faults", "Forbidden: not supported yet: fault plans come with the fault-plan issue; leave faults empty ([]) or remove it")
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
		if !contains(allKeys, e.key.Value) && !contains(reservedActs, e.key.Value) {
			p.unknownField(e.key, path, e.key.Value, allKeys)
			continue
		}
		if contains(reservedActs, e.key.Value) {
			p.fail(e.key, path+"."+e.key.Value, fmt.Sprintf("not implemented yet: %s is a reserved action the runner cannot do yet", e.key.Value))
			return Step{}, false
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
			p.fail(e.key, path+".timeout", "Forbidden: timeout goes with after (or wait): a step at a time does not wait")
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
	case LoseNode, ReturnNode, Cordon, Uncordon:
		if s, ok := p.str(act.val, field); ok {
			name := s
			if kind, n, err := ParseTarget(s); err == nil && strings.Contains(s, "/") {
				if kind != apiserver.Nodes || n == "" {
					p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: expected a node: node/<name>", s))
					break
				}
				name = n
			}
			if clusterOK && !p.nodes[name] {
				p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: no such node in the cluster (nodes: %s)", s, listSome(p.nodeNames, 10)))
				break
			}
			st.Target = "node/" + name
		}
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
	kind, name, err := ParseTarget(target)
	if err != nil {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: %v", target, err))
		return
	}
	st.Target = target
	if st.Action == Scale && !scalable[kind] {
		p.fail(act.val, field, fmt.Sprintf("Invalid value: %q: a %s has no scale subresource (scale a ReplicaSet, ReplicationController, Deployment or StatefulSet)", target, kind))
	}
	se, hasSel := opts["selector"]
	switch {
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
	}
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
	case n.Kind == yaml.SequenceNode:
		for _, el := range n.Content {
			if el = content(el); el == nil || el.Kind != yaml.ScalarNode {
				p.fail(el, path, "Invalid value: expected key=value or key-")
				continue
			}
			arg(el, el.Value)
		}
	case n.Kind == yaml.ScalarNode:
		for _, a := range strings.Fields(n.Value) {
			arg(n, a)
		}
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
// difference of case), or "".
func suggest(key string, known []string) string {
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
