package workloads

import (
	"fmt"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// deleteVerb is kubectl delete --cascade [--grace-period].
type deleteVerb struct{}

func (deleteVerb) name() Action { return DeleteObj }

func (deleteVerb) options() []string { return []string{"cascade", "gracePeriod", "selector", "limit"} }

func (deleteVerb) parse(p *parser, st *Step, in stepInput) {
	if _, _, ok := p.objectTarget(st, in, nil); !ok {
		return
	}
	if e, ok := in.opts["cascade"]; ok {
		if v, ok := p.str(e.val, in.path+".cascade"); ok {
			switch v {
			case "background", "foreground", "orphan":
				st.Cascade = v
			default:
				p.fail(e.val, in.path+".cascade", fmt.Sprintf("Unsupported value: %q: supported values: \"background\", \"foreground\", \"orphan\"", v))
			}
		}
	}
	p.gracePeriod(st, in)
}

// gracePeriod reads --grace-period (delete and drain).
func (p *parser) gracePeriod(st *Step, in stepInput) {
	if e, ok := in.opts["gracePeriod"]; ok {
		if v, ok := p.intNode(e.val, in.path+".gracePeriod", 0, 1<<62); ok {
			st.GracePeriod = &v
		}
	}
}

func (deleteVerb) describe(b *strings.Builder, s Step) {
	if s.Cascade != "" {
		b.WriteString(" --cascade=" + s.Cascade)
	}
	if s.GracePeriod != nil {
		fmt.Fprintf(b, " --grace-period=%d", *s.GracePeriod)
	}
}

func (deleteVerb) run(r *Runner, s Step) error {
	return r.eachTarget(s, func(kind apiserver.Kind, ns, name string) error {
		policy := metav1.DeletePropagationBackground
		switch s.Cascade {
		case "", "background":
		case "foreground":
			policy = metav1.DeletePropagationForeground
		case "orphan":
			policy = metav1.DeletePropagationOrphan
		default:
			return fmt.Errorf("--cascade must be background, foreground or orphan, not %q", s.Cascade)
		}
		return r.ctx.Client().Delete(kind, ns, name, &metav1.DeleteOptions{PropagationPolicy: &policy, GracePeriodSeconds: s.GracePeriod})
	})
}
