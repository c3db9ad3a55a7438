package statefulset

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/models/internal/modeltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// bare is an API server with a garbage collector and the controller, and no
// kubelets: pods stay Pending until a test says they run.
type bare struct {
	t   *testing.T
	w   *sim.World
	api *apiserver.Server
	ctl *Controller
	// Every pod the controller created, in order, and at each the names of
	// the pod objects then in storage.
	created []string
	during  []map[string]bool
	live    map[string]bool
}

func newBare(t *testing.T, opts Options) *bare {
	return newBareWith(t, opts, apiserver.DefaultConfig())
}

func newBareWith(t *testing.T, opts Options, cfg apiserver.Config) *bare {
	w := sim.New(1, sim.Limits{MaxTime: 10 * time.Hour, MaxEvents: 1_000_000})
	api := apiserver.New(w, cfg)
	cluster.StartGarbageCollector(api)
	b := &bare{t: t, w: w, api: api, live: map[string]bool{}}
	api.OnCommit(func(ev apiserver.Event) {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return
		}
		if ev.Type == watch.Added && ev.Client == b.ctl.opts.Name {
			b.created = append(b.created, pod.Name)
			snap := map[string]bool{}
			for k := range b.live {
				snap[k] = true
			}
			b.during = append(b.during, snap)
		}
		if ev.Type == watch.Deleted {
			delete(b.live, pod.Name)
		} else {
			b.live[pod.Name] = true
		}
	})
	b.ctl = Start(api, opts)
	return b
}

func (b *bare) run(d time.Duration) { b.w.RunUntil(b.w.Elapsed() + d) }

func (b *bare) serve(req *apiserver.Request) apiserver.Object {
	b.t.Helper()
	return modeltest.Serve(b.t, b.api, req)
}

func (b *bare) get(kind apiserver.Kind, name string) apiserver.Object {
	resp := b.api.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: kind, Name: name})
	if apierrors.IsNotFound(resp.Err) {
		return nil
	}
	require.NoError(b.t, resp.Err)
	return resp.Object
}

func (b *bare) pod(name string) *corev1.Pod {
	if o := b.get(apiserver.Pods, name); o != nil {
		return o.(*corev1.Pod)
	}
	return nil
}

func (b *bare) set() *appsv1.StatefulSet {
	return b.get(apiserver.StatefulSets, "web").(*appsv1.StatefulSet)
}

func (b *bare) list(kind apiserver.Kind) []string {
	var out []string
	for _, o := range b.api.Serve(&apiserver.Request{Verb: apiserver.List, Kind: kind}).Items {
		out = append(out, o.GetName())
	}
	return out
}

// setPhase writes a pod's phase, Running ones Ready.
func (b *bare) setPhase(name string, phase corev1.PodPhase) {
	b.t.Helper()
	p := b.pod(name).DeepCopy()
	p.Status.Phase = phase
	status := corev1.ConditionFalse
	if phase == corev1.PodRunning {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(b.w.Now())}}
	b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Name: name, Subresource: "status", Object: p})
}

// runAll lets the controller work for d, making every pod it creates Running
// and Ready at once.
func (b *bare) runAll(d time.Duration) {
	end := b.w.Elapsed() + d
	for b.w.Elapsed() < end {
		b.run(100 * time.Millisecond)
		for _, name := range b.list(apiserver.Pods) {
			if p := b.pod(name); p.Status.Phase == corev1.PodPending && p.DeletionTimestamp == nil {
				b.setPhase(name, corev1.PodRunning)
			}
		}
	}
}

func webSet(replicas int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: "nginx",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "nginx"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "nginx"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.9.1"}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "www"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
			}},
		},
	}
}

func (b *bare) create(set *appsv1.StatefulSet) *appsv1.StatefulSet {
	return b.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.StatefulSets, Namespace: set.Namespace, Object: set}).(*appsv1.StatefulSet)
}

func TestPodIdentity(t *testing.T) {
	b := newBare(t, Options{})
	set := webSet(2)
	set.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	b.create(set)
	b.runAll(10 * time.Second)
	p := b.pod("web-1")
	require.NotNil(t, p)
	assert.Equal(t, "web-1", p.Spec.Hostname)
	assert.Equal(t, "nginx", p.Spec.Subdomain)
	assert.Equal(t, map[string]string{"app": "nginx", "statefulset.kubernetes.io/pod-name": "web-1", "apps.kubernetes.io/pod-index": "1",
		"controller-revision-hash": b.set().Status.UpdateRevision}, p.Labels)
	require.Len(t, p.Spec.Volumes, 2)
	assert.Equal(t, "www", p.Spec.Volumes[0].Name)
	assert.Equal(t, "www-web-1", p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName)
	assert.Equal(t, "config", p.Spec.Volumes[1].Name)
	claim := b.get(apiserver.PersistentVolumeClaims, "www-web-1").(*corev1.PersistentVolumeClaim)
	assert.Equal(t, map[string]string{"app": "nginx"}, claim.Labels)
	assert.Empty(t, claim.OwnerReferences, "Retain: claims have no owner")

	s := b.set()
	assert.Equal(t, int32(2), s.Status.Replicas)
	assert.Equal(t, int32(2), s.Status.ReadyReplicas)
	assert.Equal(t, int32(2), s.Status.AvailableReplicas)
	assert.Equal(t, int32(2), s.Status.CurrentReplicas)
	assert.Equal(t, int32(2), s.Status.UpdatedReplicas)
	assert.Equal(t, s.Generation, s.Status.ObservedGeneration)
	assert.Equal(t, s.Status.CurrentRevision, s.Status.UpdateRevision)
	require.NotNil(t, s.Status.CollisionCount)
	rev := b.get(apiserver.ControllerRevisions, s.Status.UpdateRevision).(*appsv1.ControllerRevision)
	assert.Equal(t, int64(1), rev.Revision)
	assert.True(t, metav1.IsControlledBy(rev, s))
}

// A pod that is terminating holds its ordinal until it is gone, in either
// pod management policy: no pod is created while another of that name
// exists; once the finalizer goes, it comes back.
func TestTerminatingPodHoldsItsOrdinal(t *testing.T) {
	for _, policy := range []appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement} {
		t.Run(string(policy), func(t *testing.T) {
			b := newBare(t, Options{})
			set := webSet(3)
			set.Spec.PodManagementPolicy = policy
			b.create(set)
			b.runAll(10 * time.Second)
			require.Equal(t, []string{"web-0", "web-1", "web-2"}, b.list(apiserver.Pods))
			// web-1 is stuck terminating (a finalizer; a lost node does the same).
			p := b.pod("web-1").DeepCopy()
			p.Finalizers = []string{"example.com/hold"}
			b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Name: "web-1", Object: p})
			b.serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Name: "web-1"})
			b.runAll(5 * time.Minute)
			assert.Len(t, b.created, 3, "nothing replaces a pod that still exists")
			assert.NotNil(t, b.pod("web-1").DeletionTimestamp)
			// A scale-up meanwhile: OrderedReady waits for web-1, Parallel does not.
			s := b.set().DeepCopy()
			*s.Spec.Replicas = 4
			b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.StatefulSets, Name: "web", Object: s})
			b.runAll(time.Minute)
			if policy == appsv1.ParallelPodManagement {
				assert.NotNil(t, b.pod("web-3"), "Parallel creates web-3 at once")
			} else {
				assert.Nil(t, b.pod("web-3"), "OrderedReady waits for web-1 first")
			}
			p = b.pod("web-1").DeepCopy()
			p.Finalizers = nil
			b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Name: "web-1", Object: p})
			b.runAll(time.Minute)
			assert.Equal(t, []string{"web-0", "web-1", "web-2", "web-3"}, b.list(apiserver.Pods))
			for i, name := range b.created {
				assert.False(t, b.during[i][name], "%s created while a pod of that name existed", name)
			}
		})
	}
}

func TestFailedPodIsReplaced(t *testing.T) {
	b := newBare(t, Options{})
	b.create(webSet(2))
	b.runAll(10 * time.Second)
	before := b.pod("web-0").UID
	b.setPhase("web-0", corev1.PodFailed)
	b.runAll(10 * time.Second)
	after := b.pod("web-0")
	require.NotNil(t, after)
	assert.NotEqual(t, before, after.UID, "deleted and created again")
	assert.Equal(t, []string{"web-0", "web-1", "web-0"}, b.created)
	assert.Equal(t, corev1.PodRunning, after.Status.Phase)
}

func TestAdoptionAndRelease(t *testing.T) {
	b := newBare(t, Options{})
	// An orphan revision of the set's (defaulted) template is adopted and
	// used: the orphan pods carry its hash.
	scratch := webSet(0)
	scratch.Namespace = "scratch"
	defaulted := b.create(scratch).DeepCopy()
	defaulted.Namespace = "default"
	rev, err := newRevision(defaulted, 1, new(int32))
	require.NoError(t, err)
	rev.OwnerReferences = nil
	b.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ControllerRevisions, Object: rev})
	orphan := func(name string) {
		// Mounting its claim already: pod volumes cannot change, and
		// upstream's update of an adopted pod without them fails forever.
		b.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "nginx", appsv1.ControllerRevisionHashLabelKey: rev.Name}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.9.1"}},
				Volumes: []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "www-" + name}}}}},
		}})
		b.setPhase(name, corev1.PodRunning)
	}
	orphan("web-0")   // a member: adopted, and given its identity labels
	orphan("other-1") // matches the selector, but not a member by name

	set := b.create(webSet(2))
	b.runAll(10 * time.Second)
	web0 := b.pod("web-0")
	assert.True(t, metav1.IsControlledBy(web0, set), "web-0 adopted")
	assert.Equal(t, "0", web0.Labels[appsv1.PodIndexLabel], "and given its identity")
	assert.Equal(t, "web-0", web0.Labels[appsv1.StatefulSetPodNameLabel])
	assert.Empty(t, b.pod("other-1").OwnerReferences, "not a member: left alone")
	assert.Equal(t, []string{"web-1"}, b.created)
	assert.True(t, metav1.IsControlledBy(b.get(apiserver.ControllerRevisions, rev.Name), set), "the orphan revision adopted")
	assert.Equal(t, rev.Name, b.set().Status.UpdateRevision, "and used: same template")

	// web-1 relabelled out of the selector: released. Its name stays taken,
	// so the controller cannot replace it (as upstream) until it goes.
	p := b.pod("web-1").DeepCopy()
	p.Labels["app"] = "debug"
	b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Name: "web-1", Object: p})
	b.runAll(10 * time.Second)
	assert.Empty(t, b.pod("web-1").OwnerReferences, "released")
	b.serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Name: "web-1", Delete: &metav1.DeleteOptions{GracePeriodSeconds: new(int64)}})
	b.runAll(time.Minute)
	assert.True(t, metav1.IsControlledBy(b.pod("web-1"), set), "replaced once the name is free")
}

func TestRollbackRenumbersTheOldRevision(t *testing.T) {
	b := newBare(t, Options{})
	b.create(webSet(2))
	b.runAll(10 * time.Second)
	first := b.set().Status.UpdateRevision
	setImage := func(image string) {
		s := b.set().DeepCopy()
		s.Spec.Template.Spec.Containers[0].Image = image
		b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.StatefulSets, Name: "web", Object: s})
		b.runAll(time.Minute)
	}
	setImage("nginx:1.10")
	second := b.set().Status.UpdateRevision
	assert.NotEqual(t, first, second)
	assert.Equal(t, second, b.set().Status.CurrentRevision, "rolled out")
	setImage("nginx:1.9.1")
	s := b.set()
	assert.Equal(t, first, s.Status.UpdateRevision, "the old revision is reused")
	assert.Equal(t, first, s.Status.CurrentRevision)
	assert.Equal(t, int64(3), b.get(apiserver.ControllerRevisions, first).(*appsv1.ControllerRevision).Revision, "renumbered")
	assert.Len(t, b.list(apiserver.ControllerRevisions), 2)
	assert.Equal(t, first, b.pod("web-0").Labels[appsv1.ControllerRevisionHashLabelKey])
	assert.Equal(t, []string{"web-0", "web-1", "web-1", "web-0", "web-1", "web-0"}, b.created, "each update from the highest ordinal")
}

func TestScaleDownDeletesClaimsWithDeletePolicy(t *testing.T) {
	b := newBare(t, Options{})
	set := webSet(3)
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenScaled: del, WhenDeleted: retain}
	b.create(set)
	b.runAll(10 * time.Second)
	s := b.set().DeepCopy()
	*s.Spec.Replicas = 1
	b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.StatefulSets, Name: "web", Object: s})
	b.runAll(time.Minute)
	assert.Equal(t, []string{"web-0"}, b.list(apiserver.Pods))
	assert.Equal(t, []string{"www-web-0"}, b.list(apiserver.PersistentVolumeClaims), "the scaled-down pods' claims went with them")
	// The set is deleted: WhenDeleted Retain keeps the last claim.
	b.serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.StatefulSets, Name: "web"})
	b.run(time.Minute)
	assert.Empty(t, b.list(apiserver.Pods))
	assert.Equal(t, []string{"www-web-0"}, b.list(apiserver.PersistentVolumeClaims))
}

// A claim still owned by an earlier pod of the ordinal (about to be garbage
// collected under WhenScaled Delete) keeps the new pod from being created.
func TestStaleClaimBlocksCreation(t *testing.T) {
	b := newBare(t, Options{})
	t0 := true
	b.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.PersistentVolumeClaims, Object: &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "www-web-0", Namespace: "default", Finalizers: []string{"example.com/hold"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "web-0", UID: types.UID("gone"), Controller: &t0}}},
		Spec: webSet(1).Spec.VolumeClaimTemplates[0].Spec,
	}})
	set := webSet(1)
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenScaled: del, WhenDeleted: retain}
	b.create(set)
	b.runAll(time.Minute)
	assert.Empty(t, b.created, "waits for the stale claim to go")
	claim := b.get(apiserver.PersistentVolumeClaims, "www-web-0").(*corev1.PersistentVolumeClaim)
	require.NotNil(t, claim.DeletionTimestamp, "the garbage collector deletes it")
	claim = claim.DeepCopy()
	claim.Finalizers = nil
	b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.PersistentVolumeClaims, Name: claim.Name, Object: claim})
	b.runAll(time.Minute)
	assert.Empty(t, b.created, "upstream does not watch claims: the set waits for its next sync")
	s := b.set().DeepCopy()
	s.Annotations = map[string]string{"touch": "1"}
	b.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.StatefulSets, Name: "web", Object: s})
	b.runAll(time.Minute)
	assert.Equal(t, []string{"web-0"}, b.created)
	assert.Empty(t, b.get(apiserver.PersistentVolumeClaims, "www-web-0").GetOwnerReferences(), "a new claim")
}

func TestMinReadySecondsAvailability(t *testing.T) {
	b := newBare(t, Options{})
	set := webSet(2)
	set.Spec.MinReadySeconds = 30
	b.create(set)
	b.runAll(20 * time.Second)
	assert.Equal(t, []string{"web-0"}, b.created, "OrderedReady waits for web-0 to be available, not only Ready")
	s := b.set()
	assert.Equal(t, int32(1), s.Status.ReadyReplicas)
	assert.Equal(t, int32(0), s.Status.AvailableReplicas)
	b.runAll(20 * time.Second)
	assert.Equal(t, []string{"web-0", "web-1"}, b.created, "requeued when web-0 became available")
	b.runAll(time.Minute)
	assert.Equal(t, int32(2), b.set().Status.AvailableReplicas)
}

// With a watch much slower than a request, the cache lags the controller's
// own writes. v1.36's consistency check waits for it to catch up; without
// it, syncs on a stale cache try to create pods that already exist.
func TestConsistencyCheck(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		conflicts bool
	}{
		{"upstream", Options{}, false},
		{"without the check", Options{NoConsistencyCheck: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := modeltest.APIConfig(apiserver.Dist{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond},
				apiserver.Dist{Min: 500 * time.Millisecond, Max: time.Second})
			b := newBareWith(t, tc.opts, cfg)
			set := webSet(4)
			set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
			b.create(set)
			b.runAll(time.Minute)
			assert.Equal(t, []string{"web-0", "web-1", "web-2", "web-3"}, b.list(apiserver.Pods))
			exists := 0
			for _, op := range b.api.History().Ops() {
				if op.Client == b.ctl.opts.Name && op.Verb == "create" && op.Code == 409 {
					exists++
				}
			}
			t.Logf("%d creates refused as AlreadyExists", exists)
			assert.Equal(t, tc.conflicts, exists > 0)
		})
	}
}
