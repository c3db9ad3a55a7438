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
