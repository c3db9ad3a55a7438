package controller

import (
	"errors"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestClaimPods(t *testing.T) {
	yes := true
	ours := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid", Controller: &yes}}
	theirs := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "other", UID: "other-uid", Controller: &yes}}
	pod := func(name, app string, refs []metav1.OwnerReference) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": app}, OwnerReferences: refs}}
	}
	deleting := func(p *corev1.Pod) *corev1.Pod {
		now := metav1.Unix(1, 0)
		p.DeletionTimestamp = &now
		return p
	}
	const (
		adoptA   = `{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"rs-uid","controller":true,"blockOwnerDeletion":true}],"uid":"uid-a"}}`
		releaseB = `{"metadata":{"uid":"uid-b","ownerReferences":[{"$patch":"delete","uid":"rs-uid"}]}}`
	)
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "b", field.ErrorList{field.Invalid(field.NewPath("metadata", "uid"), "uid-b", "precondition")})
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "a")
	for _, tc := range []struct {
		name          string
		ownerDeleting bool
		pods          []*corev1.Pod
		canAdopt      error
		patchErr      map[string]error
		claimed       []string
		patches       []string
		canAdoptCalls int
		err           bool
	}{
		{name: "ours and matching: kept, no request", pods: []*corev1.Pod{pod("c", "web", ours)}, claimed: []string{"c"}},
		{name: "someone else's: ignored", pods: []*corev1.Pod{pod("c", "web", theirs)}},
		{name: "an orphan: adopted after one check", pods: []*corev1.Pod{pod("a", "web", nil)},
			claimed: []string{"a"}, patches: []string{adoptA}, canAdoptCalls: 1},
		{name: "ours, no longer matching: released", pods: []*corev1.Pod{pod("b", "db", ours)}, patches: []string{releaseB}},
		{name: "an orphan being deleted, or not matching: left alone", pods: []*corev1.Pod{deleting(pod("a", "web", nil)), pod("d", "db", nil)}},
		{name: "owner being deleted: keeps, neither adopts nor releases", ownerDeleting: true,
			pods: []*corev1.Pod{pod("a", "web", nil), pod("b", "db", ours), pod("c", "web", ours)}, claimed: []string{"c"}},
		{name: "canAdopt fails: nothing adopted, the check made once", canAdopt: errors.New("gone"),
			pods: []*corev1.Pod{pod("a", "web", nil), pod("e", "web", nil)}, canAdoptCalls: 1, err: true},
		{name: "an orphan gone meanwhile: not claimed, not an error", pods: []*corev1.Pod{pod("a", "web", nil)},
			patchErr: map[string]error{"a": notFound}, patches: []string{adoptA}, canAdoptCalls: 1},
		{name: "a release the server refuses as invalid: not an error", pods: []*corev1.Pod{pod("b", "db", ours)},
			patchErr: map[string]error{"b": invalid}, patches: []string{releaseB}},
		{name: "a failed adoption: an error, the others go on", pods: []*corev1.Pod{pod("a", "web", nil), pod("c", "web", ours)},
			patchErr: map[string]error{"a": apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "a", errors.New("x"))},
			claimed:  []string{"c"}, patches: []string{adoptA}, canAdoptCalls: 1, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "rs", UID: "rs-uid"}}
			if tc.ownerDeleting {
				now := metav1.Unix(1, 0)
				rs.DeletionTimestamp = &now
			}
			var patches []string
			patch := func(kind apiserver.Kind, _, name string, data []byte) error {
				require.Equal(t, apiserver.Pods, kind)
				patches = append(patches, string(data))
				return tc.patchErr[name]
			}
			calls := 0
			canAdopt := func() error { calls++; return tc.canAdopt }
			m := NewRefManager(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), labels.SelectorFromSet(labels.Set{"app": "web"}), patch, canAdopt)
			claimed, err := m.ClaimPods(tc.pods)
			var names []string
			for _, p := range claimed {
				names = append(names, p.Name)
			}
			assert.Equal(t, tc.claimed, names)
			assert.Equal(t, tc.patches, patches)
			assert.Equal(t, tc.canAdoptCalls, calls)
			assert.Equal(t, tc.err, err != nil, "%v", err)
		})
	}
}
