// Package kubetest has the Kubernetes objects the tests of several packages
// build alike, so that each is written once: the frontend ReplicaSet of the
// ReplicaSet documentation and a bare pod.
package kubetest

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FrontendReplicaSet is the documentation's frontend ReplicaSet (tier=frontend,
// gb-frontend:v5) with the given replicas, in no namespace (the API server
// defaults it to "default").
func FrontendReplicaSet(replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend", Labels: map[string]string{"tier": "frontend"}},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "frontend"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "php-redis", Image: "gb-frontend:v5"}}},
			},
		},
	}
}

// BarePod is a pod with no owner, the given labels and one nginx container.
func BarePod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.25"}}},
	}
}
