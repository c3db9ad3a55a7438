package workloads

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// rolloutUndo is kubectl rollout undo [--to-revision]: it rolls a Deployment
// back to an earlier revision's pod template, on the client side, as kubectl
// (k8s.io/kubectl polymorphichelpers, DeploymentRollbacker) does:
//
//   - read the Deployment and list its ReplicaSets (selector-matching, and
//     controlled by it); the revision wanted is --to-revision, or with none
//     the second highest revision;
//   - "unable to find specified revision N in history" when no ReplicaSet has
//     revision N, "no rollout history found for deployment" when there is no
//     previous one;
//   - refuse a paused Deployment;
//   - skip (no error, no write) when the Deployment's template already is
//     that revision's;
//   - else one JSON patch: spec.template replaced by the ReplicaSet's
//     template without its pod-template-hash label, and metadata.annotations
//     by the Deployment's own revision/replica annotations plus the
//     ReplicaSet's others.
//
// The controller then finds that ReplicaSet's template again and makes it the
// new ReplicaSet, with the next revision.
func (r *Runner) rolloutUndo(s Step) error {
	kind, name, err := ParseTarget(s.Target)
	if err != nil {
		return err
	}
	if kind != apiserver.Deployments {
		return fmt.Errorf("no rollbacker has been implemented for %q in ctrlsim (rollout undo takes a Deployment)", resourceName(kind))
	}
	if s.ToRevision < 0 {
		return revisionNotFound(s.ToRevision)
	}
	c := r.ctx.Client()
	ns := metav1.NamespaceDefault
	obj, err := c.Get(kind, ns, name)
	if err != nil {
		return err
	}
	d := obj.(*appsv1.Deployment)
	target, err := r.revisionReplicaSet(d, s.ToRevision)
	if err != nil {
		return err
	}
	if d.Spec.Paused {
		return fmt.Errorf("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/%s' and try again", name)
	}
	if equalIgnoreHash(&target.Spec.Template, &d.Spec.Template) {
		return nil // kubectl: skipped rollback (current template already matches revision N)
	}
	tmpl := target.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	annotations := map[string]string{}
	for k, v := range d.Annotations {
		if rollbackKeeps[k] {
			annotations[k] = v
		}
	}
	for k, v := range target.Annotations {
		if !rollbackKeeps[k] {
			annotations[k] = v
		}
	}
	// kubectl replaces /metadata/annotations, which on a real cluster always
	// exists (the controller's revision annotation). A Deployment with none
	// takes an add, which is the same patch for one that has them.
	op := "replace"
	if len(d.Annotations) == 0 {
		op = "add"
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "replace", "path": "/spec/template", "value": tmpl},
		{"op": op, "path": "/metadata/annotations", "value": annotations},
	})
	if err != nil {
		return err
	}
	if _, err := c.Patch(kind, ns, name, types.JSONPatchType, patch, ""); err != nil {
		return fmt.Errorf("failed restoring revision %d: %v", s.ToRevision, err)
	}
	return nil
}

// rollbackKeeps are the annotations a rollback keeps from the Deployment
// rather than taking them from the ReplicaSet.
var rollbackKeeps = map[string]bool{
	corev1.LastAppliedConfigAnnotation:          true,
	"deployment.kubernetes.io/revision":         true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	appsv1.DeprecatedRollbackTo:                 true,
}

func revisionNotFound(n int64) error {
	return fmt.Errorf("unable to find specified revision %d in history", n)
}

// revisionReplicaSet finds the ReplicaSet of a revision (0: the previous
// one, the second highest) among the Deployment's.
func (r *Runner) revisionReplicaSet(d *appsv1.Deployment, toRevision int64) (*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	objs, _, err := r.ctx.Client().List(apiserver.ReplicaSets, d.Namespace, sel)
	if err != nil {
		return nil, fmt.Errorf("failed to retrieve replica sets from deployment %s: %v", d.Name, err)
	}
	var rss []*appsv1.ReplicaSet
	for _, o := range objs {
		if rs := o.(*appsv1.ReplicaSet); metav1.IsControlledBy(rs, d) {
			rss = append(rss, rs)
		}
	}
	// kubectl's order: the old ReplicaSets by age, then the new one (the
	// oldest with the Deployment's template).
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i], rss[j]
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
	for i, rs := range rss {
		if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			rss = append(append(rss[:i:i], rss[i+1:]...), rs)
			break
		}
	}
	var latest, previous *appsv1.ReplicaSet
	latestRev, previousRev := int64(-1), int64(-1)
	for _, rs := range rss {
		v, err := replicaSetRevision(rs)
		if err != nil {
			continue
		}
		switch {
		case toRevision > 0:
			if v == toRevision {
				return rs, nil
			}
		case v > latestRev:
			previous, previousRev = latest, latestRev
			latest, latestRev = rs, v
		case v > previousRev:
			previous, previousRev = rs, v
		}
	}
	if toRevision > 0 {
		return nil, revisionNotFound(toRevision)
	}
	if previous == nil {
		return nil, fmt.Errorf("no rollout history found for deployment %q", d.Name)
	}
	return previous, nil
}

func replicaSetRevision(rs *appsv1.ReplicaSet) (int64, error) {
	v, ok := rs.Annotations["deployment.kubernetes.io/revision"]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// equalIgnoreHash compares pod templates semantically, ignoring the
// pod-template-hash label.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	x, y := a.DeepCopy(), b.DeepCopy()
	delete(x.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(y.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return equality.Semantic.DeepEqual(x, y)
}
