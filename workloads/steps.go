package workloads

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A verb is one action a step can take, in kubectl's words: it reads its own
// value and options from the scenario file, writes itself back as a kubectl
// command line, and plays itself through the runner. The parser reads what
// every step has (at, after, timeout, expectError) and leaves the rest to the
// verb its key names in verbs.
type verb interface {
	// name is the key that names the verb in a step (scale).
	name() Action
	// options are the keys it takes besides its own and stepCommon, in the
	// order messages list them.
	options() []string
	// parse reads the verb's value and options into st, reporting problems
	// to p with the field they are in.
	parse(p *parser, st *Step, in stepInput)
	// describe writes the step's flags, after the verb and the target.
	describe(b *strings.Builder, s Step)
	// run plays the step as kubectl would (or, for the node verbs, as the
	// machine would).
	run(r *Runner, s Step) error
}

// stepInput is what the parser hands a verb: the step's entry for the verb
// and its options, by key.
type stepInput struct {
	verb      verb
	act       kv
	opts      map[string]kv
	path      string // steps[3]
	clusterOK bool   // the cluster parsed: its nodes are known
	before    int    // the errors before the step
}

// field is the verb's own field: steps[3].scale.
func (in stepInput) field() string { return in.path + "." + in.act.key.Value }

// verbList is every verb, in the order messages list them.
var verbList = []verb{
	createVerb{}, applyVerb{}, scaleVerb{}, annotateVerb{}, labelVerb{}, deleteVerb{},
	cordonVerb{}, uncordonVerb{}, waitVerb{}, loseNodeVerb{}, returnNodeVerb{},
	setImageVerb{}, rolloutUndoVerb{}, rolloutPauseVerb{}, rolloutResumeVerb{}, rollingUpdateVerb{},
	drainVerb{}, addNodeVerb{}, deleteNodeVerb{},
}

var (
	// verbs finds a verb by the key that names it.
	verbs = func() map[string]verb {
		m := map[string]verb{}
		for _, v := range verbList {
			m[string(v.name())] = v
		}
		return m
	}()
	actionNames = func() []string {
		var out []string
		for _, v := range verbList {
			out = append(out, string(v.name()))
		}
		return out
	}()
	// stepCommon are the keys every step may have.
	stepCommon = []string{"at", "after", "timeout", "expectError", "expectErrorMessage"}
	// stepKeys are every key a step may have, for "did you mean".
	stepKeys = append(append(append([]string{}, actionNames...), stepCommon...), allOptions()...)
)

// allOptions are the verbs' options, each once, in the verbs' order.
func allOptions() []string {
	var out []string
	for _, v := range verbList {
		for _, o := range v.options() {
			if !contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// optionList says which options a verb takes, for messages.
func optionList(a Action) string {
	if v, ok := verbs[string(a)]; ok && len(v.options()) > 0 {
		return " (its options: " + strings.Join(v.options(), ", ") + ")"
	}
	return " (it takes only at, after and timeout)"
}

// noOptions is embedded by the verbs that take no options: they have no
// flags to write either.
type noOptions struct{}

func (noOptions) options() []string               { return nil }
func (noOptions) describe(*strings.Builder, Step) {}

// timeoutHinter is a verb with a timeout of its own, which a user may have
// meant by timeout: (which bounds the wait for after:).
type timeoutHinter interface{ timeoutHint() string }

// step reads one step.
func (p *parser) step(i int, n *yaml.Node, clusterOK bool) (Step, bool) {
	path := fmt.Sprintf("steps[%d]", i)
	n = content(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.fail(n, path, "Invalid value: a step is a mapping: at (or after), then one action, e.g. scale: rs/frontend")
		return Step{}, false
	}
	in := stepInput{path: path, clusterOK: clusterOK, before: len(p.errs.list)}
	if !p.stepKeys(n, &in) {
		return Step{}, false
	}
	st := Step{Action: in.verb.name(), Timeout: DefaultTimeout}
	p.when(&st, in)
	p.expectations(&st, in)
	in.verb.parse(p, &st, in)
	return st, len(p.errs.list) == in.before
}

// stepKeys finds the step's verb and its options, reporting unknown keys,
// a step with no verb or two, and options the verb does not take.
func (p *parser) stepKeys(n *yaml.Node, in *stepInput) bool {
	es, dups := entries(n)
	p.reportDups(dups, in.path)
	var acts []kv
	for _, e := range es {
		if e.key.Kind != yaml.ScalarNode {
			p.fail(e.key, in.path, "a key must be a string")
			continue
		}
		if !contains(stepKeys, e.key.Value) {
			p.unknownField(e.key, in.path, e.key.Value, stepKeys)
			continue
		}
		if _, ok := verbs[e.key.Value]; ok {
			acts = append(acts, e)
		}
	}
	switch len(acts) {
	case 0:
		p.fail(n, in.path, "Required value: no action: a step needs one of "+strings.Join(actionNames, ", "))
		return false
	case 1:
	default:
		p.fail(acts[1].key, in.path, fmt.Sprintf("Forbidden: %s and %s: one action per step", acts[0].key.Value, acts[1].key.Value))
		return false
	}
	in.act, in.verb = acts[0], verbs[acts[0].key.Value]
	in.opts = map[string]kv{}
	for _, e := range es {
		k := e.key.Value
		if _, isVerb := verbs[k]; e.key.Kind != yaml.ScalarNode || isVerb {
			continue
		}
		switch {
		case contains(stepCommon, k) || contains(in.verb.options(), k):
			in.opts[k] = e
		case contains(stepKeys, k):
			p.fail(e.key, in.path+"."+k, fmt.Sprintf("Forbidden: not an option of %s%s", in.verb.name(), optionList(in.verb.name())))
		}
	}
	return true
}

// when reads at, after and timeout. wait's own value is its condition: it
// is read here, as after's is.
func (p *parser) when(st *Step, in stepInput) {
	path, opts, waits := in.path, in.opts, st.Action == Wait
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
	condText, condNode, field := "", (*yaml.Node)(nil), path+".after"
	if e, ok := opts["after"]; ok {
		condNode = content(e.val)
		condText, _ = p.str(condNode, path+".after")
		if waits {
			p.fail(e.key, path+".after", "Forbidden: wait takes its condition itself (wait: rs/frontend ready=3)")
			condText = ""
		}
	}
	if waits {
		condNode, field = content(in.act.val), path+".wait"
		condText, _ = p.str(condNode, field)
	}
	if condText != "" {
		if c, err := ParseCondition(condText); err != nil {
			p.fail(condNode, field, fmt.Sprintf("Invalid value: %q: %v", condText, err))
		} else {
			st.After = c
		}
	}
	if e, ok := opts["timeout"]; ok {
		if _, hasAfter := opts["after"]; !hasAfter && !waits {
			detail := "Forbidden: timeout goes with after (or wait): a step at a time does not wait"
			if h, ok := in.verb.(timeoutHinter); ok {
				detail += "; " + h.timeoutHint()
			}
			p.fail(e.key, path+".timeout", detail)
		} else if d, ok := p.positiveDuration(e.val, path+".timeout"); ok {
			st.Timeout = d
		}
	}
	if _, ok := opts["at"]; !ok && st.After == nil {
		st.At = p.lastAt // right after the step before
	}
}

// knownReasons are the API status reasons a step may expect.
var knownReasons = map[metav1.StatusReason]bool{
	metav1.StatusReasonConflict: true, metav1.StatusReasonNotFound: true, metav1.StatusReasonAlreadyExists: true,
	metav1.StatusReasonInvalid: true, metav1.StatusReasonForbidden: true, metav1.StatusReasonBadRequest: true,
	metav1.StatusReasonGone: true, metav1.StatusReasonTooManyRequests: true, metav1.StatusReasonTimeout: true,
	metav1.StatusReasonServerTimeout: true, metav1.StatusReasonInternalError: true,
}

// expectations reads expectError and expectErrorMessage.
func (p *parser) expectations(st *Step, in stepInput) {
	if e, ok := in.opts["expectError"]; ok {
		if v, ok := p.str(e.val, in.path+".expectError"); ok {
			if !knownReasons[metav1.StatusReason(v)] {
				p.fail(e.val, in.path+".expectError", fmt.Sprintf("Unsupported value: %q: an API status reason such as Conflict, NotFound, AlreadyExists, Invalid", v))
			} else {
				st.ExpectError = metav1.StatusReason(v)
			}
		}
	}
	if e, ok := in.opts["expectErrorMessage"]; ok {
		if v, ok := p.str(e.val, in.path+".expectErrorMessage"); ok {
			if strings.TrimSpace(v) == "" {
				p.fail(e.val, in.path+".expectErrorMessage", "Required value: text the error must contain, e.g. no rollout history found")
			}
			st.ExpectErrorMessage = v
		}
	}
}

// waitVerb is kubectl wait: the step is its condition (read by when), and
// does nothing once it holds.
type waitVerb struct{ noOptions }

func (waitVerb) name() Action                    { return Wait }
func (waitVerb) parse(*parser, *Step, stepInput) {}
func (waitVerb) run(*Runner, Step) error         { return nil }
