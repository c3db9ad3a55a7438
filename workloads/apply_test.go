package workloads

import (
	"strings"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// webRS is the manifest the apply tests change.
const webRS = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web
  labels: {app: web, track: stable}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
`

// edit is webRS with each old text replaced by the new one after it.
func edit(t *testing.T, oldNew ...string) string {
	t.Helper()
	s := webRS
	for i := 0; i < len(oldNew); i += 2 {
		require.Contains(t, s, oldNew[i])
		s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
	}
	return s
}

// patchRecorder keeps the workload's patch requests as the server got them.
type patchRecorder []*apiserver.Request

func (p *patchRecorder) Intercept(req *apiserver.Request) apiserver.Interception {
	if req.Client == Client && req.Verb == apiserver.Patch {
		*p = append(*p, req)
	}
	return apiserver.Interception{}
}

// Apply is kubectl's client-side apply: manifest A, maybe other steps, then
// manifest B; B's changes from A reach the live object, what others did
// and no manifest set stays.
func TestApplyThreeWayMerge(t *testing.T) {
	noReplicas := []string{"  replicas: 3\n", ""}
	for _, tc := range []struct {
		name    string
		first   Action // how A is made: Apply, or Create (no last-applied record)
		a       []string
		between []Step
		b       []string
		patches int // the second apply's patch requests
		check   func(t *testing.T, rs *appsv1.ReplicaSet)
	}{
		{name: "a label removed from the manifest is removed", first: Apply,
			b: []string{"{app: web, track: stable}", "{app: web}"}, patches: 1,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, map[string]string{"app": "web"}, rs.Labels)
			}},
		{name: "an env var removed from the manifest is removed", first: Apply,
			b: []string{`, {name: B, value: "2"}`, ""}, patches: 1,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, []corev1.EnvVar{{Name: "A", Value: "1"}}, rs.Spec.Template.Spec.Containers[0].Env)
			}},
		{name: "replicas changed in the manifest", first: Apply,
			b: []string{"replicas: 3", "replicas: 5"}, patches: 1,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, int32(5), *rs.Spec.Replicas)
			}},
		{name: "replicas a scale set stay when no manifest sets them", first: Apply,
			a: noReplicas, between: []Step{{Action: Scale, Target: "rs/web", Replicas: 4}},
			b: append([]string{"nginx:1.25", "nginx:1.26"}, noReplicas...), patches: 1,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, int32(4), *rs.Spec.Replicas)
				assert.Equal(t, "nginx:1.26", rs.Spec.Template.Spec.Containers[0].Image)
			}},
		{name: "replicas the manifest sets again override a scale", first: Apply,
			between: []Step{{Action: Scale, Target: "rs/web", Replicas: 4}}, patches: 1,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, int32(3), *rs.Spec.Replicas)
			}},
		{name: "replicas removed from the manifest are removed: the default", first: Apply,
			between: []Step{{Action: Scale, Target: "rs/web", Replicas: 4}},
			b:       noReplicas, patches: 1,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, int32(1), *rs.Spec.Replicas)
			}},
		{name: "an annotation and a label another step added stay", first: Apply,
			between: []Step{
				{Action: Annotate, Target: "rs/web", Set: map[string]string{"note": "kept"}},
				{Action: Label, Target: "rs/web", Set: map[string]string{"owner": "me"}},
			},
			b: []string{"{app: web, track: stable}", "{app: web}"}, patches: 1,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, "kept", rs.Annotations["note"])
				assert.Equal(t, map[string]string{"app": "web", "owner": "me"}, rs.Labels)
			}},
		{name: "an unchanged manifest sends nothing", first: Apply, patches: 0,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, map[string]string{"app": "web", "track": "stable"}, rs.Labels)
			}},
		{name: "an object created without apply loses nothing", first: Create,
			b: []string{"{app: web, track: stable}", "{app: web}", `, {name: B, value: "2"}`, ""}, patches: 1,
			check: func(t *testing.T, rs *appsv1.ReplicaSet) {
				assert.Equal(t, map[string]string{"app": "web", "track": "stable"}, rs.Labels)
				assert.Len(t, rs.Spec.Template.Spec.Containers[0].Env, 2)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objsA, err := DecodeManifests("a.yaml", []byte(edit(t, tc.a...)))
			require.NoError(t, err)
			b := edit(t, tc.b...)
			objsB, err := DecodeManifests("b.yaml", []byte(b))
			require.NoError(t, err)

			w := sim.New(1, sim.Limits{MaxTime: time.Hour})
			api := apiserver.New(w, apiserver.DefaultConfig())
			var patches patchRecorder
			api.Interceptor = &patches
			r := &Runner{ctx: controller.NewContext(Client, api)}
			steps := append(append([]Step{{Action: tc.first, Objects: objsA}}, tc.between...), Step{Action: Apply, Objects: objsB})
			var before int
			r.ctx.Go("steps", func() {
				for i, s := range steps {
					if i == len(steps)-1 {
						before = len(patches)
					}
					require.NoError(t, r.do(s), s.String())
				}
				w.Stop("done")
			})
			w.Run()

			objs := api.Objects(apiserver.ReplicaSets)
			require.Len(t, objs, 1)
			rs := objs[0].(*appsv1.ReplicaSet)
			tc.check(t, rs)
			applied, _, err := appliedConfiguration(objsB[0], "default")
			require.NoError(t, err)
			assert.Equal(t, string(applied), rs.Annotations[corev1.LastAppliedConfigAnnotation], "the last applied configuration is B")

			sent := patches[before:]
			require.Len(t, sent, tc.patches)
			var ops []*history.Op // the workload's patches of the object, the apply's last
			for _, op := range api.History().Ops() {
				if op.Client == Client && op.Verb == "patch" && op.Subresource == "" {
					ops = append(ops, op)
				}
			}
			require.GreaterOrEqual(t, len(ops), len(sent))
			ops = ops[len(ops)-len(sent):]
			for i, req := range sent {
				assert.Equal(t, types.StrategicMergePatchType, req.PatchType)
				assert.Equal(t, "default/web", ops[i].Key)
				assert.Equal(t, string(req.Patch), ops[i].Arg)
				assert.Equal(t, 200, ops[i].Code)
			}
		})
	}
}

// The record of an applied manifest is the object as written (no status, no
// unset fields, no record of its own), in its namespace, as kubectl keeps it.
func TestAppliedConfiguration(t *testing.T) {
	objs, err := DecodeManifests("a.yaml", []byte(`apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: stale
spec:
  containers: [{name: c, image: nginx}]
`))
	require.NoError(t, err)
	applied, modified, err := appliedConfiguration(objs[0], "default")
	require.NoError(t, err)
	want := `{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"p","namespace":"default"},"spec":{"containers":[{"image":"nginx","name":"c","resources":{}}]}}` + "\n"
	assert.Equal(t, want, string(applied))
	assert.Contains(t, string(modified), `"annotations":{"kubectl.kubernetes.io/last-applied-configuration":`)
	assert.Equal(t, "stale", objs[0].GetAnnotations()[corev1.LastAppliedConfigAnnotation], "the manifest is left as it was")
}
