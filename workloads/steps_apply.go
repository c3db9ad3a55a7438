package workloads

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
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

// applyObject is kubectl apply (client side) of one object. kubectl keeps
// the configuration it applied in the last-applied-configuration annotation;
// an object that does not exist is created with it, one that does is sent a
// three-way strategic merge patch: from the last applied configuration
// (original) to the manifest (modified), against the live object
// (current). So a field removed from the manifest since the last apply is
// removed, a field the manifest sets is set, and a field the manifest never
// set (replicas a scale step changed, an annotation added by another step)
// keeps its live value. An object created without apply has no
// last-applied configuration: nothing is removed from it.
func (r *Runner) applyObject(o apiserver.Object) error {
	c := r.ctx.Client()
	kind := apiserver.KindOf(o)
	ns := o.GetNamespace()
	if ns == "" && apiserver.Namespaced(kind) {
		ns = metav1.NamespaceDefault
	}
	applied, modified, err := appliedConfiguration(o, ns)
	if err != nil {
		return err
	}
	current, err := c.Get(kind, ns, o.GetName())
	if apierrors.IsNotFound(err) {
		obj := o.DeepCopyObject().(apiserver.Object)
		setAnnotation(obj, corev1.LastAppliedConfigAnnotation, string(applied))
		_, err = c.Create(obj)
		return err
	}
	// As kubectl, retry a patch refused with a Conflict against the object
	// read again, waiting a second between tries after the first.
	for try := 0; ; try++ {
		if err != nil {
			return err
		}
		err = r.patchApplied(kind, ns, current, modified)
		if !apierrors.IsConflict(err) || try == applyRetries {
			return err
		}
		if try > 0 {
			r.ctx.Sleep(time.Second)
		}
		current, err = c.Get(kind, ns, o.GetName())
	}
}

// applyRetries is how often kubectl apply retries a patch refused with a
// Conflict (its maxPatchRetry).
const applyRetries = 5

// patchApplied sends the three-way patch from the live object's last
// applied configuration to modified; none when there is nothing to change
// (kubectl's "unchanged").
func (r *Runner) patchApplied(kind apiserver.Kind, ns string, current apiserver.Object, modified []byte) error {
	cur, err := json.Marshal(current)
	if err != nil {
		return err
	}
	original := []byte(current.GetAnnotations()[corev1.LastAppliedConfigAnnotation])
	meta, err := strategicpatch.NewPatchMetaFromStruct(apiserver.NewObject(kind))
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateThreeWayMergePatch(original, modified, cur, meta, true)
	if err != nil {
		return fmt.Errorf("%s %q: the apply patch: %v", resourceName(kind), current.GetName(), err)
	}
	if string(patch) == "{}" {
		return nil
	}
	_, err = r.ctx.Client().Patch(kind, ns, current.GetName(), types.StrategicMergePatchType, patch, "")
	return err
}

// appliedConfiguration is the manifest as kubectl apply records it (the
// object as written, in namespace ns: without status, without the fields it
// does not set, without a last-applied annotation of its own), and the
// manifest with that record as its last-applied annotation: the patch's
// modified side.
func appliedConfiguration(o apiserver.Object, ns string) (applied, modified []byte, err error) {
	m, err := manifestMap(o)
	if err != nil {
		return nil, nil, err
	}
	meta, _ := m["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		m["metadata"] = meta
	}
	if ns != "" {
		meta["namespace"] = ns
	}
	// kubectl records "annotations": {} rather than none.
	annotations, _ := meta["annotations"].(map[string]any)
	if annotations == nil {
		annotations = map[string]any{}
	}
	delete(annotations, corev1.LastAppliedConfigAnnotation)
	meta["annotations"] = annotations
	if applied, err = json.Marshal(m); err != nil {
		return nil, nil, err
	}
	applied = append(applied, '\n') // as kubectl's encoder ends it
	annotations[corev1.LastAppliedConfigAnnotation] = string(applied)
	modified, err = json.Marshal(m)
	return applied, modified, err
}

// manifestMap is the manifest as JSON values: the fields it sets, not the
// nulls of the typed object's unset ones, and no status (the server's).
func manifestMap(o apiserver.Object) (map[string]any, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	return pruneNulls(m).(map[string]any), nil
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

func setAnnotation(o apiserver.Object, key, value string) {
	a := maps.Clone(o.GetAnnotations())
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	o.SetAnnotations(a)
}
