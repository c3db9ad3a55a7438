package workloads

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// A fault plan is a list of faults, under faults: in a scenario or in a file
// of its own (ctrlsim run --faults plan.yaml). Each fault names one kind
// with its target, when it starts and how long it lasts:
//
//	faults:
//	  - at: 30s
//	    lose-node: node/node-2         # a node
//	    for: 2m                        # then it returns
//	  - after: rs/frontend ready=3     # once a condition holds (timeout: 5m)
//	    kill-pod: pods
//	    selector: app=frontend
//	    count: 2
//	  - at: 1m
//	    api-error: create,update       # API verbs (or *)
//	    code: 500                      # 409, 429, 500 or 504
//	    rate: 0.5
//	    for: 30s
//	  - at: 1m
//	    watch-delay: rs                # a controller, by the kind it runs (or *)
//	    delay: 5s                      # or a range: 1s-5s
//	    for: 1m
//
// The kinds and their options are faults.Kinds (ctrlsim faults lists them).

var (
	faultCommon = []string{"at", "after", "timeout", "for"}
	apiVerbs    = []string{"get", "list", "create", "update", "patch", "delete"}
)

// ParseFaults parses a fault plan file for scenario sc (whose cluster names
// the nodes the plan may touch): a list of faults, or a mapping with a
// faults: list.
func ParseFaults(file string, data []byte, sc *Scenario) (faults.Plan, error) {
	p := &parser{file: file, nodes: map[string]bool{}}
	for _, ns := range sc.Cluster.NodeSpecs() {
		p.nodes[ns.Name] = true
		p.nodeNames = append(p.nodeNames, ns.Name)
	}
	for _, st := range sc.Steps {
		if st.Action == AddNode && st.Node != nil {
			p.nodes[st.Node.Name] = true
		}
	}
	docs, perr := parseDocs(file, data, 0)
	if perr != nil {
		return nil, Errors{perr}
	}
	if len(docs) != 1 {
		return nil, Errors{{File: file, Line: 1, Detail: "a fault plan is one YAML document: a list of faults (or faults: with the list)"}}
	}
	root := content(docs[0])
	if root != nil && root.Kind == yaml.MappingNode {
		f := p.fields(root, "", []string{"faults"})
		e, ok := f["faults"]
		if !ok {
			if err := p.errs.err(); err != nil {
				return nil, err
			}
			return nil, Errors{{File: file, Line: root.Line, Detail: "Required value: faults: a list of faults"}}
		}
		root = content(e.val)
	}
	plan := p.faultPlan(root, "faults", true)
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return plan, nil
}

// LoadFaults reads a fault plan file for sc.
func LoadFaults(file string, sc *Scenario) (faults.Plan, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseFaults(file, data, sc)
}

func (p *parser) faultPlan(n *yaml.Node, path string, clusterOK bool) faults.Plan {
	items, _ := p.list(n, path, "a list of faults, e.g. - {at: 30s, lose-node: node/node-2, for: 2m}")
	var plan faults.Plan
	for i, el := range items {
		if f, ok := p.fault(fmt.Sprintf("%s[%d]", path, i), el, clusterOK); ok {
			plan = append(plan, f)
		}
	}
	return plan
}

func (p *parser) fault(path string, n *yaml.Node, clusterOK bool) (faults.Fault, bool) {
	n = content(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.fail(n, path, "Invalid value: a fault is a mapping: at (or after), one kind with its target, for, options")
		return faults.Fault{}, false
	}
	before := len(p.errs.list)
	act, opts, ok := p.faultKeys(n, path, before)
	if !ok {
		return faults.Fault{}, false
	}
	info, _ := faults.Info(faults.Kind(act.key.Value))
	f := faults.Fault{Kind: info.Kind, Rate: 1}
	for k, e := range opts {
		if !contains(faultCommon, k) && !contains(info.Options, k) {
			known := "it takes none"
			if len(info.Options) > 0 {
				known = "its options: " + strings.Join(info.Options, ", ")
			}
			p.fail(e.key, path+"."+k, fmt.Sprintf("Forbidden: not an option of %s (%s)", info.Kind, known))
		}
	}
	p.faultWhen(&f, info, act, opts, path)

	// What.
	field := path + "." + act.key.Value
	if target, ok := p.str(act.val, field); ok {
		faultTargets[info.Target](p, &f, faultTargetIn{content(act.val), field, target, info, clusterOK})
	}
	for _, o := range faultOptionList {
		if !contains(info.Options, o.key) {
			continue
		}
		if o.def != nil {
			o.def(&f)
		}
		if e, ok := opts[o.key]; ok {
			o.read(p, &f, e, path+"."+o.key)
		} else if o.missing != "" {
			p.fail(n, path+"."+o.key, fmt.Sprintf(o.missing, info.Kind))
		}
	}
	return f, len(p.errs.list) == before
}

// faultKeys finds the fault's kind and its options, reporting unknown keys
// and a fault with no kind or two.
func (p *parser) faultKeys(n *yaml.Node, path string, before int) (kv, map[string]kv, bool) {
	kinds := faults.KindNames()
	es, dups := entries(n)
	p.reportDups(dups, path)
	allKeys := append(append(append([]string{}, kinds...), faultCommon...), faultOptionKeys()...)
	var acts []kv
	opts := map[string]kv{}
	for _, e := range es {
		k := e.key.Value
		switch {
		case e.key.Kind != yaml.ScalarNode:
			p.fail(e.key, path, "a key must be a string")
		case !contains(allKeys, k):
			p.unknownField(e.key, path, k, allKeys)
		case contains(kinds, k):
			acts = append(acts, e)
		default:
			opts[k] = e
		}
	}
	switch len(acts) {
	case 0:
		if len(p.errs.list) == before { // else an unknown key said it already
			p.fail(n, path, "Required value: no fault kind: a fault needs one of "+strings.Join(kinds, ", "))
		}
		return kv{}, nil, false
	case 1:
		return acts[0], opts, true
	default:
		p.fail(acts[1].key, path, fmt.Sprintf("Forbidden: %s and %s: one kind per fault", acts[0].key.Value, acts[1].key.Value))
		return kv{}, nil, false
	}
}

// faultWhen reads when the fault starts (at, after, timeout) and how long
// it lasts (for).
func (p *parser) faultWhen(f *faults.Fault, info faults.KindInfo, act kv, opts map[string]kv, path string) {
	if e, ok := opts["at"]; ok {
		if d, ok := p.durationNode(content(e.val), path+".at"); ok {
			if d < 0 {
				p.fail(e.val, path+".at", fmt.Sprintf("Invalid value: %q: must be 0s or later", e.val.Value))
			}
			f.At = d
		}
	}
	if e, ok := opts["after"]; ok {
		if s, ok := p.str(e.val, path+".after"); ok {
			if c, err := ParseCondition(s); err != nil {
				p.fail(content(e.val), path+".after", fmt.Sprintf("Invalid value: %q: %v", s, err))
			} else {
				f.After = c
			}
		}
	}
	if e, ok := opts["timeout"]; ok {
		if _, hasAfter := opts["after"]; !hasAfter {
			p.fail(e.key, path+".timeout", "Forbidden: timeout goes with after: a fault at a time does not wait")
		} else if d, ok := p.positiveDuration(e.val, path+".timeout"); ok {
			f.Timeout = d
		}
	}
	if e, ok := opts["for"]; ok {
		switch {
		case !info.Window && !info.Heals:
			p.fail(e.key, path+".for", fmt.Sprintf("Forbidden: %s is an instant: it has no duration", info.Kind))
		default:
			if d, ok := p.positiveDuration(e.val, path+".for"); ok {
				f.For = d
			}
		}
	} else if info.Window {
		p.fail(act.key, path+".for", fmt.Sprintf("Required value: %s lasts for a while: give for: (e.g. for: 1m)", info.Kind))
	}
}

// faultTargetIn is a fault's target as written, and where.
type faultTargetIn struct {
	n         *yaml.Node
	field     string // faults[2].lose-node
	target    string
	info      faults.KindInfo
	clusterOK bool // the cluster parsed: its nodes are known
}

// faultTargets read a fault's target, by what its kind acts on.
var faultTargets = map[faults.Target]func(p *parser, f *faults.Fault, in faultTargetIn){
	faults.TargetNode: func(p *parser, f *faults.Fault, in faultTargetIn) {
		name, ok := p.nodeName(in.n, in.field, in.target)
		if !ok {
			return
		}
		if in.clusterOK && !p.nodes[name] {
			p.fail(in.n, in.field, fmt.Sprintf("Invalid value: %q: no such node in the cluster (nodes: %s)", in.target, listSome(p.nodeNames, 10)))
			return
		}
		f.Target = "node/" + name
	},
	faults.TargetPods: func(p *parser, f *faults.Fault, in faultTargetIn) {
		kind, name, err := ParseTarget(in.target)
		if err != nil || kind != apiserver.Pods {
			p.fail(in.n, in.field, fmt.Sprintf("Invalid value: %q: expected pods (with selector: and count:) or pod/<name>", in.target))
			return
		}
		f.Target = "pods"
		if name != "" {
			f.Target, f.Selector = "pod/"+name, ""
		}
	},
	faults.TargetObject: func(p *parser, f *faults.Fault, in faultTargetIn) {
		kind, name, err := ParseTarget(in.target)
		switch {
		case err != nil:
			p.fail(in.n, in.field, fmt.Sprintf("Invalid value: %v", err))
		case name == "":
			p.fail(in.n, in.field, fmt.Sprintf("Invalid value: %q: name the owner, e.g. rs/frontend", in.target))
		case !slices.Contains([]apiserver.Kind{apiserver.ReplicaSets, apiserver.ReplicationControllers, apiserver.Deployments, apiserver.StatefulSets, apiserver.DaemonSets}, kind):
			p.fail(in.n, in.field, fmt.Sprintf("Invalid value: %q: %s deletes an owner of pods: rs, rc, deploy, sts or ds", in.target, in.info.Kind))
		default:
			f.Target = resourceNames[kind][2] + "/" + name
		}
	},
	faults.TargetVerbs: func(p *parser, f *faults.Fault, in faultTargetIn) {
		var verbs []string
		for _, v := range strings.Split(in.target, ",") {
			v = strings.TrimSpace(v)
			if v != "*" && !contains(apiVerbs, v) {
				p.fail(in.n, in.field, fmt.Sprintf("Unsupported value: %q: API verbs are %s, or *", v, strings.Join(apiVerbs, ", ")))
				return
			}
			verbs = append(verbs, v)
		}
		f.Target = strings.Join(verbs, ",")
	},
	faults.TargetController: func(p *parser, f *faults.Fault, in faultTargetIn) {
		if in.target == "*" {
			f.Target = "*"
			return
		}
		kind, ok := faults.ShortKinds[strings.ToLower(in.target)]
		if !ok {
			p.fail(in.n, in.field, fmt.Sprintf("Invalid value: %q: name a controller by the kind it runs: rs, rc, deploy, sts, ds, hpa, or * for every controller", in.target))
			return
		}
		f.Target = resourceNames[kind][2]
	},
}

// faultOption is an option fault kinds may take (faults.KindInfo.Options).
type faultOption struct {
	key string
	// def, when set, is the option's default, for the kinds that take it.
	def func(f *faults.Fault)
	// read reads the option; field is faults[2].count.
	read func(p *parser, f *faults.Fault, e kv, field string)
	// missing, when set, makes the option required of the kinds that take
	// it: the detail of the error (%s is the kind).
	missing string
}

// faultOptionList is every fault option, in the order they are read and
// messages list them.
var faultOptionList = []faultOption{
	{key: "selector", read: func(p *parser, f *faults.Fault, e kv, field string) {
		if s, ok := p.str(e.val, field); ok {
			if _, err := labels.Parse(s); err != nil {
				p.fail(content(e.val), field, fmt.Sprintf("Invalid value: %q: %v", s, err))
			} else if strings.HasPrefix(f.Target, "pod/") {
				p.fail(e.key, field, "Forbidden: the fault names one pod already")
			} else {
				f.Selector = s
			}
		}
	}},
	{key: "count", read: func(p *parser, f *faults.Fault, e kv, field string) {
		if v, ok := p.intNode(e.val, field, 1, 1<<20); ok {
			f.Count = int(v)
		}
	}},
	{key: "gracePeriod", read: func(p *parser, f *faults.Fault, e kv, field string) {
		if v, ok := p.intNode(e.val, field, 0, 1<<40); ok {
			f.GracePeriod = &v
		}
	}},
	{key: "set", missing: "Required value: %s needs set: {key: value} (a key written key- is removed)",
		read: func(p *parser, f *faults.Fault, e kv, field string) {
			f.Set, f.Remove = p.setArgs(e.val, field, f.Kind == faults.Relabel)
		}},
	{key: "recreate", read: func(p *parser, f *faults.Fault, e kv, field string) {
		if b, ok := p.boolNode(e.val, field); ok {
			f.Recreate = &b
		}
	}},
	{key: "recreateAs", read: func(p *parser, f *faults.Fault, e kv, field string) {
		if s, ok := p.str(e.val, field); ok {
			if msgs := validation.IsDNS1123Subdomain(s); len(msgs) > 0 {
				p.fail(content(e.val), field, fmt.Sprintf("Invalid value: %q: %s", s, strings.Join(msgs, "; ")))
			}
			f.RecreateAs = s
		}
	}},
	{key: "period", read: func(p *parser, f *faults.Fault, e kv, field string) {
		if d, ok := p.positiveDuration(e.val, field); ok {
			f.Period = d
		}
	}},
	{key: "delay", missing: "Required value: %s needs delay: (e.g. 5s, or 1s-5s)",
		read: func(p *parser, f *faults.Fault, e kv, field string) {
			if d, ok := p.dist(e.val, field); ok {
				f.Delay = d
			}
		}},
	{key: "code", def: func(f *faults.Fault) { f.Code = 500 },
		read: func(p *parser, f *faults.Fault, e kv, field string) {
			if v, ok := p.intNode(e.val, field, 0, 999); ok {
				if !slices.Contains([]int64{409, 429, 500, 504}, v) {
					p.fail(content(e.val), field, fmt.Sprintf("Unsupported value: %d: 409 (Conflict), 429 (TooManyRequests), 500 (InternalError) or 504 (Timeout)", v))
				}
				f.Code = int(v)
			}
		}},
	{key: "rate", read: func(p *parser, f *faults.Fault, e kv, field string) {
		if s, ok := p.str(e.val, field); ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v <= 0 || v > 1 {
				p.fail(content(e.val), field, fmt.Sprintf("Invalid value: %q: a share of the requests, more than 0 and at most 1 (0.25)", s))
			} else {
				f.Rate = v
			}
		}
	}},
	{key: "clients", read: func(p *parser, f *faults.Fault, e kv, field string) {
		if s, ok := p.str(e.val, field); ok {
			if s != "controllers" && s != "all" {
				p.fail(content(e.val), field, fmt.Sprintf("Unsupported value: %q: controllers (the ones under test, the default) or all", s))
			}
			f.Clients = s
		}
	}},
	{key: "gone", read: func(p *parser, f *faults.Fault, e kv, field string) {
		f.Gone, _ = p.boolNode(e.val, field)
	}},
	{key: "skew", missing: "Required value: %s needs skew: (e.g. 5m or -30s)",
		read: func(p *parser, f *faults.Fault, e kv, field string) {
			if s, ok := p.str(e.val, field); ok {
				d, err := time.ParseDuration(s)
				if err != nil || d == 0 {
					p.fail(content(e.val), field, fmt.Sprintf("Invalid value: %q: a non-zero duration, e.g. 5m or -30s", s))
				}
				f.Skew = d
			}
		}},
}

// faultOptionKeys are the options' keys, for "did you mean".
func faultOptionKeys() []string {
	out := make([]string, len(faultOptionList))
	for i, o := range faultOptionList {
		out[i] = o.key
	}
	return out
}

// dist reads a delay: one duration (5s) or a range (1s-5s).
func (p *parser) dist(n *yaml.Node, path string) (apiserver.Dist, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return apiserver.Dist{}, false
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err1 := time.ParseDuration(strings.TrimSpace(lo))
	b := a
	var err2 error
	if isRange {
		b, err2 = time.ParseDuration(strings.TrimSpace(hi))
	}
	if err1 != nil || err2 != nil || a < 0 || b < a {
		p.fail(content(n), path, fmt.Sprintf("Invalid value: %q: a duration (5s) or a range (1s-5s)", s))
		return apiserver.Dist{}, false
	}
	return apiserver.Dist{Min: a, Max: b}, true
}

// FaultScope is what a random fault plan (faults.Random) may touch in this
// scenario: its nodes, its workloads' pods (by their selectors), its owners
// and their controllers, until its last step is due (at least two minutes;
// a step's wait for a condition is not part of the window, so that faults do
// not eat the time the scenario allows for reaching it). A random plan must not keep the scenario's own steps from doing
// what they say, nor break an expectation written for the scenario: nodes
// and owners a step names (or creates) are left to the steps, and with
// expect.maxOvershoot no relabel puts pods back into a selector.
func (sc *Scenario) FaultScope() faults.Scope {
	s := faults.Scope{Window: 2 * time.Minute}
	for _, st := range sc.Steps {
		s.Window = max(s.Window, st.At)
	}
	named := map[string]bool{}
	for _, st := range sc.Steps {
		if kind, name, err := ParseTarget(st.Target); err == nil && name != "" {
			named[string(kind)+"/"+name] = true
		}
		if st.After != nil {
			named[string(st.After.Kind)+"/"+st.After.Name] = true
		}
		for _, o := range st.Objects {
			named[string(apiserver.KindOf(o))+"/"+o.GetName()] = true
		}
	}
	for _, ns := range sc.Cluster.NodeSpecs() {
		if !named[string(apiserver.Nodes)+"/"+ns.Name] {
			s.Nodes = append(s.Nodes, ns.Name)
		}
	}
	if sc.Expect.MaxOvershoot != nil {
		// Overshoot is promised by one active controller whose pods nobody
		// else hands back: not under split brain, nor when pods relabelled
		// away return to the selector.
		s.Exclude = append(s.Exclude, faults.Relabel, faults.SplitBrain)
	}
	for _, st := range sc.Steps {
		for k := range st.Set {
			s.StepKeys = appendNew(s.StepKeys, k)
		}
		s.StepKeys = append(s.StepKeys, st.Remove...)
	}
	slices.Sort(s.StepKeys)
	for _, o := range sc.AllObjects() {
		kind := apiserver.KindOf(o)
		short, ok := ownerShortName[kind]
		if !ok || o.GetName() == "" || o.GetNamespace() != "" && o.GetNamespace() != "default" {
			continue
		}
		if !named[string(kind)+"/"+o.GetName()] {
			s.Owners = appendNew(s.Owners, short+"/"+o.GetName())
		}
		s.Controllers = appendNew(s.Controllers, short)
		if tl := templateLabels(o); len(tl) > 0 {
			k := slices.Sorted(maps.Keys(tl))[0]
			s.Selectors = appendNew(s.Selectors, k+"="+tl[k])
		}
	}
	return s
}

var ownerShortName = map[apiserver.Kind]string{apiserver.ReplicaSets: "rs", apiserver.ReplicationControllers: "rc",
	apiserver.Deployments: "deploy", apiserver.StatefulSets: "sts", apiserver.DaemonSets: "ds"}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
