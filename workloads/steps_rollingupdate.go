package workloads

import (
	"fmt"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/models/rollingupdate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// rollingUpdateVerb is kubectl rolling-update of a ReplicationController
// (client side).
type rollingUpdateVerb struct{}

var rollingUpdateKinds = &kindRule{[]apiserver.Kind{apiserver.ReplicationControllers}, "rolling-update replaces a ReplicationController (deployments roll with set-image)"}

func (rollingUpdateVerb) name() Action { return RollingUpdate }

func (rollingUpdateVerb) options() []string {
	return []string{"to", "image", "container", "updatePeriod", "pollInterval", "updateTimeout"}
}

func (rollingUpdateVerb) timeoutHint() string {
	return "kubectl rolling-update's --timeout is updateTimeout"
}

func (rollingUpdateVerb) parse(p *parser, st *Step, in stepInput) {
	if _, name, ok := p.objectTarget(st, in, rollingUpdateKinds); ok {
		p.rollingUpdate(st, in, name)
	}
}

func (rollingUpdateVerb) describe(b *strings.Builder, s Step) {
	for _, o := range s.Objects {
		fmt.Fprintf(b, " -f %s/%s", apiserver.KindOf(o), o.GetName())
	}
	if s.Image != "" {
		b.WriteString(" --image=" + s.Image)
	}
	if s.Container != "" {
		b.WriteString(" --container=" + s.Container)
	}
	fmt.Fprintf(b, " --update-period=%v --poll-interval=%v --timeout=%v", s.UpdatePeriod, s.PollInterval, s.UpdateTimeout)
}

func (rollingUpdateVerb) run(r *Runner, s Step) error { return r.rollingUpdate(s) }

// rollingUpdate is kubectl rolling-update: the client-side replacement of a
// ReplicationController, by a new one (Objects[0]) or by a new image. It
// blocks the runner, as the command blocks its terminal, until the update is
// done or has failed (see models/rollingupdate); running it again resumes an
// update that failed.
func (r *Runner) rollingUpdate(s Step) error {
	kind, name, err := ParseTarget(s.Target)
	if err != nil {
		return err
	}
	if kind != apiserver.ReplicationControllers || name == "" {
		return fmt.Errorf("rolling-update takes a ReplicationController (rc/NAME), not %q", s.Target)
	}
	cfg := rollingupdate.Config{Namespace: metav1.NamespaceDefault, OldName: name, Image: s.Image, Container: s.Container,
		UpdatePeriod: s.UpdatePeriod, PollInterval: s.PollInterval, Timeout: s.UpdateTimeout}
	if len(s.Objects) > 0 {
		rc, ok := s.Objects[0].(*corev1.ReplicationController)
		if !ok {
			return fmt.Errorf("rolling-update: the new controller is a %s, not a ReplicationController", apiserver.KindOf(s.Objects[0]))
		}
		cfg.NewRC = rc.DeepCopy()
	}
	return rollingupdate.Run(r.ctx, cfg)
}

// rollingUpdate reads the options of rolling-update: the new
// ReplicationController (to) or the new image, and kubectl's timing flags.
func (p *parser) rollingUpdate(st *Step, in stepInput, oldName string) {
	act, opts, path := in.act, in.opts, in.path
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
