package controller

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodFromTemplate(t *testing.T) {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-web"}}
	ref := *metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))
	tests := []struct {
		name     string
		template corev1.PodTemplateSpec
		want     *corev1.Pod
	}{
		{"no labels", corev1.PodTemplateSpec{}, nil},
		{"labels only", corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", GenerateName: "web-", Labels: map[string]string{"app": "web"},
				OwnerReferences: []metav1.OwnerReference{ref}}}},
		{"everything copied", corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "1"}, Finalizers: []string{"f"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", GenerateName: "web-", Labels: map[string]string{"app": "web"},
				Annotations: map[string]string{"a": "1"}, Finalizers: []string{"f"}, OwnerReferences: []metav1.OwnerReference{ref}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod, err := PodFromTemplate(&tt.template, rs, ref)
			if tt.want == nil {
				assert.EqualError(t, err, "unable to create pods, no labels")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, pod)
			pod.Labels["app"] = "changed"
			assert.Equal(t, "web", tt.template.Labels["app"], "the template's labels are copied")
		})
	}
}

func TestSlowStartBatch(t *testing.T) {
	tests := []struct {
		name             string
		count, initial   int
		fail             map[int]bool // the calls that fail
		calls, successes int
		errs             int
	}{
		{"nothing", 0, 1, nil, 0, 0, 0},
		{"1, 2, 4, 3", 10, 1, nil, 10, 10, 0},
		{"all at once", 10, 10, nil, 10, 10, 0},
		{"a failure in the third batch stops it", 10, 1, map[int]bool{4: true, 5: true}, 7, 5, 2},
		{"a failure in the last batch", 3, 1, map[int]bool{2: true}, 3, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var successes int
			var errs []error
			inContext(func(ctx *Context) {
				successes, errs = ctx.SlowStartBatch(tt.count, tt.initial, func(i int) error {
					calls++
					if tt.fail[i] {
						return errors.New("quota")
					}
					return nil
				})
			})
			assert.Equal(t, tt.calls, calls, "calls")
			assert.Equal(t, tt.successes, successes, "successes")
			assert.Len(t, errs, tt.errs)
		})
	}
}
