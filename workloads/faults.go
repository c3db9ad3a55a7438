package workloads

import (
	"fmt"
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
	faultCommon  = []string{"at", "after", "timeout", "for"}
	faultOptions = []string{"selector", "count", "gracePeriod", "set", "recreate", "recreateAs", "period", "delay", "code", "rate", "clients", "gone", "skew"}
	apiVerbs     = []string{"get", "list", "create", "update", "patch", "delete"}
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
	n = content(n)
	switch {
	case n == nil || isNull(n):
		return nil
	case n.Kind != yaml.SequenceNode:
		p.fail(n, path, "Invalid value: expected a list of faults, e.g. - {at: 30s, lose-node: node/node-2, for: 2m}")
		return nil
	}
	var plan faults.Plan
	for i, el := range n.Content {
		if f, ok := p.fault(fmt.Sprintf("%s[%d]", path, i), el, clusterOK); ok {
			plan = append(plan, f)
		}
	}
	return plan
}

func (p *parser) fault(path string, n *yaml.Node, clusterOK bool) (faults.Fault, bool) {
	n = content(n)
	kinds := faults.KindNames()
	if n == nil || n.Kind != yaml.MappingNode {
		p.fail(n, path, "Invalid value: a fault is a mapping: at (or after), one kind with its target, for, options")
		return faults.Fault{}, false
	}
	before := len(p.errs.list)
	es, dups := entries(n)
	p.reportDups(dups, path)
	allKeys := append(append(append([]string{}, kinds...), faultCommon...), faultOptions...)
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
		if len(p.errs.list) > before {
			return faults.Fault{}, false // an unknown key said it already
		}
		p.fail(n, path, "Required value: no fault kind: a fault needs one of "+strings.Join(kinds, ", "))
		return faults.Fault{}, false
	case 1:
	default:
		p.fail(acts[1].key, path, fmt.Sprintf("Forbidden: %s and %s: one kind per fault", acts[0].key.Value, acts[1].key.Value))
		return faults.Fault{}, false
	}
	act := acts[0]
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

	// When, and for how long.
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

	// What.
	field := path + "." + act.key.Value
	target, ok := p.str(act.val, field)
	if ok {
		p.faultTarget(&f, info, content(act.val), field, target, clusterOK)
	}
	p.faultOptions(&f, info, n, opts, path)
	return f, len(p.errs.list) == before
}

func (p *parser) faultTarget(f *faults.Fault, info faults.KindInfo, n *yaml.Node, field, target string, clusterOK bool) {
	switch info.Target {
	case faults.TargetNode:
		name, ok := p.nodeName(n, field, target)
		if !ok {
			return
		}
		if clusterOK && !p.nodes[name] {
			p.fail(n, field, fmt.Sprintf("Invalid value: %q: no such node in the cluster (nodes: %s)", target, listSome(p.nodeNames, 10)))
			return
		}
		f.Target = "node/" + name
	case faults.TargetPods:
		kind, name, err := ParseTarget(target)
		if err != nil || kind != apiserver.Pods {
			p.fail(n, field, fmt.Sprintf("Invalid value: %q: expected pods (with selector: and count:) or pod/<name>", target))
			return
		}
		f.Target = "pods"
		if name != "" {
			f.Target, f.Selector = "pod/"+name, ""
		}
	case faults.TargetObject:
		kind, name, err := ParseTarget(target)
		switch {
		case err != nil:
			p.fail(n, field, fmt.Sprintf("Invalid value: %v", err))
		case name == "":
			p.fail(n, field, fmt.Sprintf("Invalid value: %q: name the owner, e.g. rs/frontend", target))
		case !slices.Contains([]apiserver.Kind{apiserver.ReplicaSets, apiserver.ReplicationControllers, apiserver.Deployments, apiserver.StatefulSets, apiserver.DaemonSets}, kind):
			p.fail(n, field, fmt.Sprintf("Invalid value: %q: %s deletes an owner of pods: rs, rc, deploy, sts or ds", target, info.Kind))
		default:
			f.Target = resourceNames[kind][2] + "/" + name
		}
	case faults.TargetVerbs:
		var verbs []string
		for _, v := range strings.Split(target, ",") {
			v = strings.TrimSpace(v)
			if v != "*" && !contains(apiVerbs, v) {
				p.fail(n, field, fmt.Sprintf("Unsupported value: %q: API verbs are %s, or *", v, strings.Join(apiVerbs, ", ")))
				return
			}
			verbs = append(verbs, v)
		}
		f.Target = strings.Join(verbs, ",")
	case faults.TargetController:
		if target == "*" {
			f.Target = "*"
			return
		}
		kind, ok := faults.ShortKinds[strings.ToLower(target)]
		if !ok {
			p.fail(n, field, fmt.Sprintf("Invalid value: %q: name a controller by the kind it runs: rs, rc, deploy, sts, ds, hpa, or * for every controller", target))
			return
		}
		f.Target = resourceNames[kind][2]
	}
}

func (p *parser) faultOptions(f *faults.Fault, info faults.KindInfo, n *yaml.Node, opts map[string]kv, path string) {
	has := func(k string) (kv, bool) {
		e, ok := opts[k]
		return e, ok && contains(info.Options, k)
	}
	if e, ok := has("selector"); ok {
		if s, ok := p.str(e.val, path+".selector"); ok {
			if _, err := labels.Parse(s); err != nil {
				p.fail(content(e.val), path+".selector", fmt.Sprintf("Invalid value: %q: %v", s, err))
			} else if strings.HasPrefix(f.Target, "pod/") {
				p.fail(e.key, path+".selector", "Forbidden: the fault names one pod already")
			} else {
				f.Selector = s
			}
		}
	}
	if e, ok := has("count"); ok {
		if v, ok := p.intNode(e.val, path+".count", 1, 1<<20); ok {
			f.Count = int(v)
		}
	}
	if e, ok := has("gracePeriod"); ok {
		if v, ok := p.intNode(e.val, path+".gracePeriod", 0, 1<<40); ok {
			f.GracePeriod = &v
		}
	}
	if e, ok := has("set"); ok {
		set, remove := p.setArgs(e.val, path+".set", info.Kind == faults.Relabel)
		f.Set, f.Remove = set, remove
	}
	if _, ok := opts["set"]; !ok && (info.Kind == faults.Relabel || info.Kind == faults.Annotate) {
		p.fail(n, path+".set", fmt.Sprintf("Required value: %s needs set: {key: value} (a key written key- is removed)", info.Kind))
	}
	if e, ok := has("recreate"); ok {
		if b, ok := p.boolNode(e.val, path+".recreate"); ok {
			f.Recreate = &b
		}
	}
	if e, ok := has("recreateAs"); ok {
		if s, ok := p.str(e.val, path+".recreateAs"); ok {
			if msgs := validation.IsDNS1123Subdomain(s); len(msgs) > 0 {
				p.fail(content(e.val), path+".recreateAs", fmt.Sprintf("Invalid value: %q: %s", s, strings.Join(msgs, "; ")))
			}
			f.RecreateAs = s
		}
	}
	if e, ok := has("period"); ok {
		if d, ok := p.positiveDuration(e.val, path+".period"); ok {
			f.Period = d
		}
	}
	if e, ok := has("delay"); ok {
		if d, ok := p.dist(e.val, path+".delay"); ok {
			f.Delay = d
		}
	} else if contains(info.Options, "delay") {
		p.fail(n, path+".delay", fmt.Sprintf("Required value: %s needs delay: (e.g. 5s, or 1s-5s)", info.Kind))
	}
	if contains(info.Options, "code") {
		f.Code = 500
	}
	if e, ok := has("code"); ok {
		if v, ok := p.intNode(e.val, path+".code", 0, 999); ok {
			if !slices.Contains([]int64{409, 429, 500, 504}, v) {
				p.fail(content(e.val), path+".code", fmt.Sprintf("Unsupported value: %d: 409 (Conflict), 429 (TooManyRequests), 500 (InternalError) or 504 (Timeout)", v))
			}
			f.Code = int(v)
		}
	}
	if e, ok := has("rate"); ok {
		if s, ok := p.str(e.val, path+".rate"); ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v <= 0 || v > 1 {
				p.fail(content(e.val), path+".rate", fmt.Sprintf("Invalid value: %q: a share of the requests, more than 0 and at most 1 (0.25)", s))
			} else {
				f.Rate = v
			}
		}
	}
	if e, ok := has("clients"); ok {
		if s, ok := p.str(e.val, path+".clients"); ok {
			if s != "controllers" && s != "all" {
				p.fail(content(e.val), path+".clients", fmt.Sprintf("Unsupported value: %q: controllers (the ones under test, the default) or all", s))
			}
			f.Clients = s
		}
	}
	if e, ok := has("gone"); ok {
		f.Gone, _ = p.boolNode(e.val, path+".gone")
	}
	if e, ok := has("skew"); ok {
		if s, ok := p.str(e.val, path+".skew"); ok {
			d, err := time.ParseDuration(s)
			if err != nil || d == 0 {
				p.fail(content(e.val), path+".skew", fmt.Sprintf("Invalid value: %q: a non-zero duration, e.g. 5m or -30s", s))
			}
			f.Skew = d
		}
	} else if info.Kind == faults.ClockSkew {
		p.fail(n, path+".skew", "Required value: clock-skew needs skew: (e.g. 5m or -30s)")
	}
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
			k := sortedKeys(tl)[0]
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
