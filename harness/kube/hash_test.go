package kube

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ptr[T any](v T) *T { return &v }

func TestComputeHash(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.7.9"}}}}
	h := ComputeHash(tmpl, nil)
	assert.Regexp(t, `^[bcdfghjklmnpqrstvwxz2456789]+$`, h)
	assert.Equal(t, h, ComputeHash(tmpl.DeepCopy(), nil), "deterministic")
	other := tmpl.DeepCopy()
	other.Spec.Containers[0].Image = "nginx:1.9.1"
	assert.NotEqual(t, h, ComputeHash(other, nil))
	assert.NotEqual(t, h, ComputeHash(tmpl, ptr(int32(1))), "a collision count makes another hash")
	assert.NotEqual(t, ComputeHash(tmpl, ptr(int32(0))), ComputeHash(tmpl, ptr(int32(1))))

	labelled := tmpl.DeepCopy()
	labelled.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = h
	assert.True(t, EqualIgnoreHash(tmpl, labelled))
	assert.False(t, EqualIgnoreHash(tmpl, other))
}
