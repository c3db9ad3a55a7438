package upstreamdiff

// harness/controller's RefManager against upstream's controller-ref
// managers (k8s.io/kubernetes/pkg/controller, controller_ref_manager.go):
// the same owner, objects, canAdopt result and patch outcomes go to both,
// and both must claim the same objects, send the same patches byte for
// byte, in the same order, call canAdopt as often, and fail alike.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

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
	"k8s.io/kubernetes/pkg/controller"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	ctrl "github.com/ctrlsim/ctrlsim/harness/controller"
)

// patchRecorder is a PodControl, RSControl and ControllerRevisionControl
// that records the patches and answers each with the error planned for its
// object.
type patchRecorder struct {
	controller.FakePodControl // the pod-control methods a claim never calls
	errs                      map[string]error
	sent                      []string // "name: bytes"
}

func (r *patchRecorder) patch(name string, data []byte) error {
	r.sent = append(r.sent, name+": "+string(data))
	return r.errs[name]
}

func (r *patchRecorder) PatchPod(_ context.Context, _, name string, data []byte) error {
	return r.patch(name, data)
}

func (r *patchRecorder) PatchReplicaSet(_ context.Context, _, name string, data []byte) error {
	return r.patch(name, data)
}

func (r *patchRecorder) PatchControllerRevision(_ context.Context, _, name string, data []byte) error {
	return r.patch(name, data)
}

// claimCase is one owner, the objects it may claim, and what the world
// answers: the canAdopt error and each patch's error.
type claimCase struct {
	owner      metav1.Object
	ownerKind  schema.GroupVersionKind
	selector   labels.Selector
	objects    []metav1.Object
	canAdopt   error
	patchErrs  map[string]error
	nameFilter bool // a pod filter as the StatefulSet's (membership by name)
}

func genClaimCase(r *rand.Rand, kind apiserver.Kind) claimCase {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	ownerMeta := metav1.ObjectMeta{Namespace: "default", Name: "owner", UID: "owner-uid"}
	if r.IntN(5) == 0 {
		now := metav1.Unix(1000, 0)
		ownerMeta.DeletionTimestamp = &now
	}
	var owner metav1.Object
	var gvk schema.GroupVersionKind
	switch kind {
	case apiserver.Pods:
		owner, gvk = &appsv1.ReplicaSet{ObjectMeta: ownerMeta}, appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
		if r.IntN(3) == 0 {
			owner, gvk = &corev1.ReplicationController{ObjectMeta: ownerMeta}, corev1.SchemeGroupVersion.WithKind("ReplicationController")
		}
	case apiserver.ReplicaSets:
		owner, gvk = &appsv1.Deployment{ObjectMeta: ownerMeta}, appsv1.SchemeGroupVersion.WithKind("Deployment")
	default:
		owner, gvk = &appsv1.DaemonSet{ObjectMeta: ownerMeta}, appsv1.SchemeGroupVersion.WithKind("DaemonSet")
	}
	c := claimCase{owner: owner, ownerKind: gvk, patchErrs: map[string]error{},
		selector:   labels.SelectorFromSet(labels.Set{"app": "web"}),
		nameFilter: kind == apiserver.Pods && r.IntN(3) == 0}
	if r.IntN(5) == 0 {
		c.canAdopt = errors.New("owner owner has just been deleted")
	}
	t := true
	for i := r.IntN(7); i > 0; i-- {
		meta := metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("obj-%d", i), UID: types.UID(fmt.Sprintf("uid-%d", i)),
			Labels: map[string]string{"app": pick("web", "web", "db")}}
		if r.IntN(10) == 0 {
			meta.Namespace = "other"
		}
		if r.IntN(6) == 0 {
			now := metav1.Unix(2000, 0)
			meta.DeletionTimestamp = &now
		}
		switch r.IntN(10) {
		case 0, 1, 2:
			meta.OwnerReferences = []metav1.OwnerReference{{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: "owner", UID: "owner-uid", Controller: &t}}
		case 3:
			meta.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: gvk.Kind, Name: "another", UID: "another-uid", Controller: &t}}
		case 4:
			// A reference that is not a controller's leaves the object an orphan.
			meta.OwnerReferences = []metav1.OwnerReference{{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: "owner", UID: "owner-uid"}}
		}
		switch r.IntN(8) {
		case 0:
			c.patchErrs[meta.Name] = apierrors.NewNotFound(schema.GroupResource{Resource: string(kind)}, meta.Name)
		case 1:
			c.patchErrs[meta.Name] = apierrors.NewInvalid(schema.GroupKind{Kind: string(kind)}, meta.Name, field.ErrorList{field.Invalid(field.NewPath("metadata", "uid"), meta.UID, "precondition failed")})
		case 2:
			c.patchErrs[meta.Name] = apierrors.NewConflict(schema.GroupResource{Resource: string(kind)}, meta.Name, errors.New("the object has been modified"))
		}
		switch kind {
		case apiserver.Pods:
			c.objects = append(c.objects, &corev1.Pod{ObjectMeta: meta})
		case apiserver.ReplicaSets:
			c.objects = append(c.objects, &appsv1.ReplicaSet{ObjectMeta: meta})
		default:
			c.objects = append(c.objects, &appsv1.ControllerRevision{ObjectMeta: meta})
		}
	}
	return c
}

// outcome is what a claim did.
type outcome struct {
	claimed  []string
	err      string
	patches  []string
	canAdopt int
}

func (c claimCase) canAdoptFunc(calls *int) func() error {
	return func() error {
		*calls++
		return c.canAdopt
	}
}

func evenName(p *corev1.Pod) bool { return (p.Name[len(p.Name)-1]-'0')%2 == 0 }

func names[T metav1.Object](objs []T) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// claimers are one side's ClaimPods, ClaimReplicaSets and
// ClaimControllerRevisions.
type claimers struct {
	pods func([]*corev1.Pod, ...func(*corev1.Pod) bool) ([]*corev1.Pod, error)
	sets func([]*appsv1.ReplicaSet) ([]*appsv1.ReplicaSet, error)
	revs func([]*appsv1.ControllerRevision) ([]*appsv1.ControllerRevision, error)
}

// claim claims the case's objects, of kind, with cl and returns the names of
// those claimed.
func (c claimCase) claim(kind apiserver.Kind, cl claimers) ([]string, error) {
	switch kind {
	case apiserver.Pods:
		var filters []func(*corev1.Pod) bool
		if c.nameFilter {
			filters = append(filters, evenName)
		}
		claimed, err := cl.pods(typed[*corev1.Pod](c.objects), filters...)
		return names(claimed), err
	case apiserver.ReplicaSets:
		claimed, err := cl.sets(typed[*appsv1.ReplicaSet](c.objects))
		return names(claimed), err
	default:
		claimed, err := cl.revs(typed[*appsv1.ControllerRevision](c.objects))
		return names(claimed), err
	}
}

func typed[T metav1.Object](objs []metav1.Object) []T {
	var out []T
	for _, o := range objs {
		out = append(out, o.(T))
	}
	return out
}

func upstreamClaim(c claimCase, kind apiserver.Kind) outcome {
	ctx := context.Background()
	rec := &patchRecorder{errs: c.patchErrs}
	var o outcome
	canAdopt := func(context.Context) error { return c.canAdoptFunc(&o.canAdopt)() }
	claimed, err := c.claim(kind, claimers{
		pods: func(pods []*corev1.Pod, filters ...func(*corev1.Pod) bool) ([]*corev1.Pod, error) {
			return controller.NewPodControllerRefManager(rec, c.owner, c.selector, c.ownerKind, canAdopt).ClaimPods(ctx, pods, filters...)
		},
		sets: func(sets []*appsv1.ReplicaSet) ([]*appsv1.ReplicaSet, error) {
			return controller.NewReplicaSetControllerRefManager(rec, c.owner, c.selector, c.ownerKind, canAdopt).ClaimReplicaSets(ctx, sets)
		},
		revs: func(revs []*appsv1.ControllerRevision) ([]*appsv1.ControllerRevision, error) {
			return controller.NewControllerRevisionControllerRefManager(rec, c.owner, c.selector, c.ownerKind, canAdopt).ClaimControllerRevisions(ctx, revs)
		},
	})
	o.claimed, o.err, o.patches = claimed, errString(err), rec.sent
	return o
}

func ourClaim(c claimCase, kind apiserver.Kind) outcome {
	rec := &patchRecorder{errs: c.patchErrs}
	var o outcome
	patch := func(k apiserver.Kind, _, name string, data []byte) error {
		if k != kind {
			panic(fmt.Sprintf("a patch of a %s while claiming %s", k, kind))
		}
		return rec.patch(name, data)
	}
	m := ctrl.NewRefManager(c.owner, c.ownerKind, c.selector, patch, c.canAdoptFunc(&o.canAdopt))
	claimed, err := c.claim(kind, claimers{pods: m.ClaimPods, sets: m.ClaimReplicaSets, revs: m.ClaimControllerRevisions})
	o.claimed, o.err, o.patches = claimed, errString(err), rec.sent
	return o
}

// TestRefManagerAgreesWithUpstream: claims of pods, ReplicaSets and
// ControllerRevisions over a randomized corpus.
func TestRefManagerAgreesWithUpstream(t *testing.T) {
	for i, kind := range []apiserver.Kind{apiserver.Pods, apiserver.ReplicaSets, apiserver.ControllerRevisions} {
		t.Run(string(kind), func(t *testing.T) {
			r := rand.New(rand.NewPCG(*seed, uint64(20+i)))
			adopted, released, failed := 0, 0, 0
			for n := 0; n < *numSets; n++ {
				c := genClaimCase(r, kind)
				want, got := upstreamClaim(c, kind), ourClaim(c, kind)
				require.Equal(t, want, got, "case %d: owner %+v\nobjects %+v\ncanAdopt %v, patch errors %v", n, c.owner, c.objects, c.canAdopt, c.patchErrs)
				for _, p := range want.patches {
					if strings.Contains(p, `"$patch":"delete"`) {
						released++
					} else {
						adopted++
					}
				}
				if want.err != "" {
					failed++
				}
			}
			// The corpus reaches every path.
			assert.Positive(t, adopted)
			assert.Positive(t, released)
			assert.Positive(t, failed)
		})
	}
}

// TestPatchBytesEqualUpstream: the adopt and release patches, byte for
// byte, including the order of their fields.
func TestPatchBytesEqualUpstream(t *testing.T) {
	owner := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "rs-uid"}}
	gvk := appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		ours func(*corev1.Pod) ([]byte, error)
	}{
		{
			name: "adopt",
			pod:  &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p", UID: "pod-uid"}},
			ours: func(p *corev1.Pod) ([]byte, error) { return ctrl.AdoptPatch(owner, gvk, p.UID) },
		},
		{
			name: "release",
			pod:  &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p", UID: "pod-uid"}},
			ours: func(p *corev1.Pod) ([]byte, error) { return ctrl.ReleasePatch(p.UID, owner.UID) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &patchRecorder{}
			m := controller.NewPodControllerRefManager(rec, owner, labels.Everything(), gvk, nil)
			if tc.name == "adopt" {
				require.NoError(t, m.AdoptPod(context.Background(), tc.pod))
			} else {
				require.NoError(t, m.ReleasePod(context.Background(), tc.pod))
			}
			got, err := tc.ours(tc.pod)
			require.NoError(t, err)
			require.Equal(t, []string{"p: " + string(got)}, rec.sent)
		})
	}
	want, err := controller.GenerateDeleteOwnerRefStrategicMergeBytes("dep", []types.UID{"a", "b"})
	require.NoError(t, err)
	got, err := ctrl.ReleasePatch("dep", "a", "b")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "several owners")
}
