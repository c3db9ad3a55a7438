package workloads

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// createVerb is kubectl create -f: it creates its objects, in order.
type createVerb struct{ manifestVerb }

// applyVerb is kubectl apply -f: it creates its objects, or patches them
// where they exist.
type applyVerb struct{ manifestVerb }

func (createVerb) name() Action { return Create }
func (applyVerb) name() Action  { return Apply }

func (createVerb) parse(p *parser, st *Step, in stepInput) { p.manifestStep(st, in, false) }
func (applyVerb) parse(p *parser, st *Step, in stepInput)  { p.manifestStep(st, in, true) }

func (createVerb) run(r *Runner, s Step) error {
	for _, o := range s.Objects {
		if _, err := r.ctx.Client().Create(o.DeepCopyObject().(apiserver.Object)); err != nil {
			return err
		}
	}
	return nil
}

func (applyVerb) run(r *Runner, s Step) error {
	for _, o := range s.Objects {
		if err := r.applyObject(o); err != nil {
			return err
		}
	}
	return nil
}

// manifestVerb is what create and apply share: their value is manifests,
// as manifests: takes them.
type manifestVerb struct{}

func (manifestVerb) options() []string { return nil }

func (manifestVerb) describe(b *strings.Builder, s Step) {
	for _, o := range s.Objects {
		name := o.GetName()
		if name == "" {
			name = o.GetGenerateName() + "*"
		}
		fmt.Fprintf(b, " %s/%s", apiserver.KindOf(o), name)
	}
}

// manifestStep reads the objects of create and apply, validated as the
// server would create them; apply needs names.
func (p *parser) manifestStep(st *Step, in stepInput, apply bool) {
	docs := p.sources(in.act.val, in.field())
	if apply {
		for _, d := range docs {
			if d.obj != nil && d.obj.GetName() == "" {
				p.errs.add(&Error{File: d.file, Line: d.node.Line, Object: d.label, Field: "metadata.name", Detail: "Required value: apply needs a name (generateName is for create)"})
			}
		}
	}
	dryRunCreate(&p.errs, docs)
	st.Objects = objectsOf(docs)
	if len(docs) == 0 && len(p.errs.list) == in.before {
		p.fail(in.act.val, in.field(), "Required value: no objects")
	}
}

// applyObject is kubectl apply of one object: created if it does not exist,
// else patched (a strategic merge patch of the manifest) so that fields the
// manifest does not set keep their live values. Unlike kubectl it keeps no
// last-applied configuration, so fields removed from a manifest stay.
func (r *Runner) applyObject(o apiserver.Object) error {
	c := r.ctx.Client()
	kind := apiserver.KindOf(o)
	ns := o.GetNamespace()
	if ns == "" && apiserver.Namespaced(kind) {
		ns = metav1.NamespaceDefault
	}
	_, err := c.Get(kind, ns, o.GetName())
	if apierrors.IsNotFound(err) {
		_, err = c.Create(o.DeepCopyObject().(apiserver.Object))
		return err
	}
	if err != nil {
		return err
	}
	patch, err := applyPatch(o)
	if err != nil {
		return err
	}
	_, err = c.Patch(kind, ns, o.GetName(), types.StrategicMergePatchType, patch, "")
	return err
}

// applyPatch is the manifest as a patch: without status and without the
// nulls of fields it does not set.
func applyPatch(o apiserver.Object) ([]byte, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	return json.Marshal(pruneNulls(m))
}

func pruneNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
			} else {
				t[k] = pruneNulls(e)
			}
		}
	case []any:
		for i, e := range t {
			t[i] = pruneNulls(e)
		}
	}
	return v
}
