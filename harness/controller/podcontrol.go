package controller

import (
	"errors"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodFromTemplate is the pod a controller creates from its template
// (upstream's GetPodFromTemplate, and the check its pod control makes before
// creating one): in parent's namespace, named "<parent>-" and a random
// suffix, with the template's labels, annotations, finalizers and spec (all
// copied), controlled through ref. A template without labels is an error:
// such a pod would belong to no one.
func PodFromTemplate(template *corev1.PodTemplateSpec, parent metav1.Object, ref metav1.OwnerReference) (*corev1.Pod, error) {
	if len(template.Labels) == 0 {
		return nil, errors.New("unable to create pods, no labels")
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       parent.GetNamespace(),
			GenerateName:    parent.GetName() + "-",
			Labels:          maps.Clone(template.Labels),
			Annotations:     maps.Clone(template.Annotations),
			Finalizers:      append([]string(nil), template.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{ref},
		},
		Spec: *template.Spec.DeepCopy(),
	}, nil
}

// SlowStartBatch is upstream's slowStartBatch: it calls fn for 0 … count-1
// in batches of initial, then twice as many each time (capped by what
// remains), the calls of a batch concurrent, and stops after a batch with a
// failure, so that a controller that cannot create pods finds out with few
// requests. It returns how many calls succeeded and the errors of the
// failed batch, in the order the calls failed.
func (c *Context) SlowStartBatch(count, initial int, fn func(i int) error) (successes int, errs []error) {
	for pos, batch := 0, min(count, initial); batch > 0; pos, batch = pos+batch, min(2*batch, count-(pos+batch)) {
		start := pos
		c.Parallel(batch, func(i int) {
			if err := fn(start + i); err != nil {
				errs = append(errs, err)
			}
		})
		successes += batch - len(errs)
		if len(errs) > 0 {
			return successes, errs
		}
	}
	return successes, nil
}
