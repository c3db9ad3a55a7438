package workloads

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// Every valid scenario in testdata/scenarios parses, and its parsed form is
// the golden one.
func TestParseScenarioGolden(t *testing.T) {
	for _, file := range glob(t, "scenarios/*.yaml") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			sc, err := LoadScenario(file)
			require.NoError(t, err)
			golden(t, "scenario_"+strings.TrimSuffix(filepath.Base(file), ".yaml")+".json", renderScenario(sc))
		})
	}
}

// Facts about the parsed scenarios, beyond the golden files.
func TestParseScenarioFacts(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	i64 := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		file  string
		check func(t *testing.T, sc *Scenario)
	}{
		{"rs-self-heal.yaml", func(t *testing.T, sc *Scenario) {
			assert.Equal(t, "rs-self-heal", sc.Name)
			assert.Equal(t, 3, sc.Cluster.NodeCount)
			require.Len(t, sc.Objects, 2)
			assert.Equal(t, apiserver.ReplicaSets, apiserver.KindOf(sc.Objects[0]))
			assert.Equal(t, "pod1", sc.Objects[1].GetName())
			require.Len(t, sc.Steps, 4)
			assert.Equal(t, Step{At: 30 * time.Second, Action: Scale, Target: "rs/frontend", Replicas: 10, Timeout: DefaultTimeout}, sc.Steps[0])
			assert.Equal(t, map[string]string{"controller.kubernetes.io/pod-deletion-cost": "100"}, sc.Steps[1].Set)
			assert.Equal(t, 3, sc.Steps[1].Limit)
			assert.Equal(t, "orphan", sc.Steps[2].Cascade)
			last := sc.Steps[3]
			require.NotNil(t, last.After)
			assert.Equal(t, "rs/frontend ready=10", last.After.String())
			assert.Equal(t, 2*time.Minute, last.Timeout)
			assert.Equal(t, "node/node-2", last.Target)
			assert.Equal(t, 4*time.Minute, sc.LastStep(), "2m, then at most the 2m timeout")
			assert.True(t, sc.HasConditions())
			assert.Equal(t, Expect{ConvergeWithin: 10 * time.Minute, StableFor: 8 * time.Minute}, sc.Expect)
		}},
		{"every-action.yaml", func(t *testing.T, sc *Scenario) {
			require.Len(t, sc.Steps, 14)
			assert.Equal(t, i32(3), sc.Steps[0].CurrentReplicas)
			assert.Equal(t, "12", sc.Steps[1].ResourceVersion)
			assert.Equal(t, map[string]string{"canary": "true"}, sc.Steps[2].Set)
			assert.Equal(t, []string{"tier"}, sc.Steps[2].Remove)
			assert.Equal(t, map[string]string{"canary": "false", "track": "stable"}, sc.Steps[3].Set)
			assert.Equal(t, []string{"old-note"}, sc.Steps[4].Remove)
			assert.Equal(t, i64(0), sc.Steps[5].GracePeriod)
			assert.Equal(t, 50*time.Second, sc.Steps[6].At, "a step without at follows the one before")
			assert.Equal(t, "extra-", sc.Steps[6].Objects[0].GetGenerateName())
			assert.Equal(t, Apply, sc.Steps[7].Action)
			assert.Equal(t, Wait, sc.Steps[8].Action)
			assert.Equal(t, "rs/frontend ready>=4 available>=4", sc.Steps[8].After.String())
			assert.Equal(t, "node/node-1", sc.Steps[9].Target)
			assert.Equal(t, Uncordon, sc.Steps[10].Action)
			assert.Equal(t, DefaultTimeout, sc.Steps[13].Timeout)
		}},
		{"cluster.yaml", func(t *testing.T, sc *Scenario) {
			c := sc.Cluster
			require.Len(t, c.Nodes, 2)
			assert.Equal(t, int64(20), c.NodeSpecs()[0].Capacity.Pods.Value())
			assert.Equal(t, int64(50), c.NodeSpecs()[1].Capacity.Pods.Value())
			assert.Equal(t, apiserver.Dist{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}, c.API.Latency[apiserver.List])
			assert.Equal(t, apiserver.Fixed(5*time.Millisecond), c.API.Latency[apiserver.Create])
			assert.Equal(t, apiserver.DefaultConfig().DefaultLatency, c.API.DefaultLatency, "api overrides the defaults field by field")
			assert.True(t, c.API.KeepHistory)
			assert.Equal(t, apiserver.Fixed(0), *c.Kubelet.Readiness, "an explicit zero survives defaulting")
			assert.Equal(t, apiserver.Fixed(time.Second), *c.Kubelet.ContainerStart)
			assert.Equal(t, []string{"nginx:1.91"}, c.Kubelet.UnpullableImages)
			assert.Equal(t, 40*time.Second, c.NodeLifecycle.NodeMonitorGracePeriod)
			assert.Equal(t, 5*time.Second, c.NodeLifecycle.NodeMonitorPeriod, "defaulted")
			assert.Equal(t, "node/a", sc.Steps[1].Target)
			assert.Equal(t, 30*time.Second, sc.Expect.StableFor, "defaulted")
		}},
		{"hpa-v1.yaml", func(t *testing.T, sc *Scenario) {
			require.Len(t, sc.Objects, 2)
			hpa := sc.Objects[1]
			assert.Equal(t, apiserver.HorizontalPodAutoscalers, apiserver.KindOf(hpa), "converted to autoscaling/v2")
			assert.Equal(t, "autoscaling/v2", hpa.GetObjectKind().GroupVersionKind().GroupVersion().String())
		}},
		{"anchors.yaml", func(t *testing.T, sc *Scenario) {
			require.Len(t, sc.Steps, 2)
			assert.Equal(t, Step{At: 20 * time.Second, Action: Scale, Target: "rs/web", Replicas: 6, Timeout: DefaultTimeout}, sc.Steps[1])
			assert.Equal(t, "json-pod", sc.Objects[0].GetName())
		}},
		{"rollout-and-node-actions.yaml", func(t *testing.T, sc *Scenario) {
			assert.True(t, sc.Heavy)
			assert.Equal(t, []LoadPoint{{At: 0, Target: "rs/frontend", CPU: 30}, {At: 2 * time.Minute, Target: "deploy/nginx-deployment", CPU: 150},
				{At: 5 * time.Minute, CPU: 20}}, sc.Load)
			require.Len(t, sc.Steps, 17)
			st := sc.Steps
			assert.Equal(t, SetImage, st[0].Action)
			assert.Equal(t, map[string]string{"nginx": "nginx:1.91"}, st[0].Images)
			assert.Equal(t, map[string]string{"php-redis": "gb-frontend:v6"}, st[1].Images, "kubectl's container=image")
			assert.Equal(t, map[string]string{"*": "gb-frontend:v7"}, st[2].Images)
			assert.Equal(t, "tier=frontend", st[2].Selector)
			assert.Equal(t, int64(0), st[3].ToRevision, "the previous revision")
			assert.Equal(t, int64(2), st[4].ToRevision)
			assert.Equal(t, "unable to find specified revision", st[4].ExpectErrorMessage)
			assert.Equal(t, RolloutPause, st[5].Action)
			assert.Equal(t, RolloutResume, st[6].Action)

			ru := st[8]
			assert.Equal(t, RollingUpdate, ru.Action)
			require.Len(t, ru.Objects, 1)
			assert.Equal(t, "frontend-v2", ru.Objects[0].GetName())
			assert.Equal(t, apiserver.ReplicationControllers, apiserver.KindOf(ru.Objects[0]))
			assert.Equal(t, 2*time.Minute, ru.Timeout, "timeout is after's")
			assert.Equal(t, []time.Duration{10 * time.Second, DefaultPollInterval, DefaultUpdateTimeout}, []time.Duration{ru.UpdatePeriod, ru.PollInterval, ru.UpdateTimeout})
			ru = st[9]
			assert.Equal(t, "gb-frontend:v6", ru.Image)
			assert.Equal(t, "php-redis", ru.Container)
			assert.Empty(t, ru.Objects)
			assert.Equal(t, []time.Duration{DefaultUpdatePeriod, time.Second, 10 * time.Minute}, []time.Duration{ru.UpdatePeriod, ru.PollInterval, ru.UpdateTimeout})

			require.NotNil(t, st[10].Node)
			assert.Equal(t, cluster.NodeSpec{Name: "node-4"}, *st[10].Node)
			assert.Equal(t, "node/node-4", st[10].Target)
			n5 := st[11].Node
			require.NotNil(t, n5)
			assert.Equal(t, "us-east1-b", n5.Zone)
			assert.Equal(t, map[string]string{"disktype": "ssd"}, n5.Labels)
			assert.Equal(t, int64(20), n5.Capacity.Pods.Value())
			assert.Equal(t, "node/node-4", st[12].Target)
			assert.Nil(t, st[12].GracePeriod)
			assert.Equal(t, int64(0), *st[13].GracePeriod)
			assert.Equal(t, DeleteNode, st[16].Action)

			step, err := sc.Unsupported()
			require.NoError(t, err, "rollout undo and rolling-update run now")
			assert.Nil(t, step)
			assert.Len(t, sc.AllObjects(), len(sc.Objects)+1, "with rolling-update's new ReplicationController")
		}},
		{"minimal.yaml", func(t *testing.T, sc *Scenario) {
			assert.Equal(t, "minimal", sc.Name)
			assert.Len(t, sc.Objects, 6)
			assert.Equal(t, Expect{ConvergeWithin: 5 * time.Minute, StableFor: 30 * time.Second}, sc.Expect)
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sc, err := LoadScenario(filepath.Join("testdata", "scenarios", tc.file))
			require.NoError(t, err)
			tc.check(t, sc)
		})
	}
}

// Every malformed scenario in testdata/bad is rejected with the golden
// errors; every error line names a file and a line.
func TestBadScenarioGolden(t *testing.T) {
	for _, file := range glob(t, "bad/*.yaml") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			sc, err := LoadScenario(file)
			require.Error(t, err)
			assert.Nil(t, sc)
			var errs Errors
			require.ErrorAs(t, err, &errs)
			for _, e := range errs {
				assert.NotEmpty(t, e.File)
				assert.Positive(t, e.Line, "%s", e)
			}
			golden(t, "bad_"+strings.TrimSuffix(filepath.Base(file), ".yaml")+".txt", err.Error()+"\n")
		})
	}
}

// What the errors of some malformed scenarios must say (the golden files hold
// the whole text).
func TestBadScenarioMessages(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"unknown-keys.yaml", []string{
			`unknown-keys.yaml:4: step: unknown field "step" (did you mean steps?)`,
			`unknown-keys.yaml:8: steps[0].replica: unknown field "replica" (did you mean replicas?)`,
			`unknown-keys.yaml:11: expect.stable: unknown field "stable"`}},
		{"rollout-and-node-actions.yaml", []string{
			`:7: steps[0].set-image: Invalid value: "deploy/nginx-deployment nginx=nginx:1.91": one object (kind/name): give the rest as the step's options (its options: image, selector, limit)`,
			`:9: steps[1].image: Required value`,
			`steps[2].set-image: Invalid value: "pod/web-pod": not a Deployment, ReplicaSet, ReplicationController, StatefulSet or DaemonSet`,
			`steps[3].rollout-undo: Invalid value: "rs/frontend": not a Deployment, DaemonSet or StatefulSet`,
			`steps[4].rollout-pause: Invalid value: "deployments": no name`,
			`steps[5].to: Required value: the new ReplicationController`,
			`steps[6].image: Forbidden: to and image in one step`,
			`steps[7].timeout: Forbidden: timeout goes with after (or wait): a step at a time does not wait; kubectl rolling-update's --timeout is updateTimeout`,
			`steps[8].to: Invalid value: a ReplicaSet: the new ReplicationController`,
			`steps[9].drain: Invalid value: "node-9": no such node in the cluster`,
			`steps[10].add-node: Duplicate value: "node-1"`,
			`steps[11].add-node.colour: unknown field "colour"`,
			`:41: steps[12].add-node.zone: Invalid value: "not a zone"`,
			`steps[15].cordon: Invalid value: "node-2": no such node in the cluster (nodes: node-1, node-3)`, // deleted by the step before
			`steps[16].selector: Forbidden: not an option of drain`}},
		{"heavy-load.yaml", []string{`:2: heavy: Invalid value: "yes please": expected true or false`,
			`:6: load[1].at: Invalid value: "30s": earlier than the point before it (1m0s)`, `load[1].target: Invalid value: "svc/frontend": a Service has no pods`,
			`load[2].when: unknown field "when" (known: at, target, cpu)`, `:8: load[3].cpu: Required value`}},
		{"one-action.yaml", []string{`steps[0]: Forbidden: scale and delete: one action per step`, `steps[1]: Required value: no action`,
			`steps[2].cascade: Forbidden: not an option of scale (its options: replicas, currentReplicas, resourceVersion, selector, limit)`}},
		{"durations.yaml", []string{`steps[0].at: Invalid value: "30": a duration needs a unit, e.g. 30s`,
			`steps[2].at: Invalid value: "1m": earlier than a step before it (2m0s)`, `expect.stableFor: Invalid value: "0s": must be greater than 0`}},
		{"faults.yaml", []string{`faults.yaml:5: faults[0].partition: unknown field "partition" (did you mean partition-node?)`,
			`faults.yaml:7: faults[1].lose-node: Invalid value: "node/node-9": no such node`,
			`faults.yaml:10: faults[2].for: Required value: watch-delay lasts for a while`, `faults[2].delay: Required value`,
			`faults.yaml:12: faults[3].api-error: Unsupported value: "frobnicate"`, `faults.yaml:13: faults[3].code: Unsupported value: 418`,
			`faults.yaml:16: faults[4].for: Forbidden: crash-pod is an instant`, `faults.yaml:17: faults[4].selector: Invalid value: "app in (("`,
			`faults[5].skew: Required value`, `faults.yaml:21: faults[6].delay: Forbidden: not an option of kill-pod`}},
		{"cluster-unknown.yaml", []string{`cluster.nodeCont: unknown field "nodeCont" (did you mean nodeCount?)`,
			`cluster.kubelet.imagePull.max: Invalid value: "3": a duration needs a unit`}},
		{"cluster-invalid.yaml", []string{`cluster-invalid.yaml:8: cluster.nodes[2].name: Duplicate value: "a"`, `cluster.kubelet.crashLoopBackOff.max: Invalid value`}},
		{"legacy-manifest.yaml", []string{`testdata/invalid/hello-minikube-legacy.yaml:5: ReplicaSet "hello-minikube": apiVersion: Unsupported value: "extensions/v1beta1"`}},
		{"inline-invalid.yaml", []string{`inline-invalid.yaml:9: ReplicaSet "rs - web": metadata.name: Invalid value: "rs - web"`,
			`inline-invalid.yaml:13: ReplicaSet "rs - web": spec.replica: unknown field "replica" in io.k8s.api.apps.v1.ReplicaSetSpec`}},
		{"targets.yaml", []string{`unknown resource type "rsx"`, `a Pod has no scale subresource`, `no name and no selector`,
			`Forbidden: a selector with a name`, `lose-node: Invalid value: "node/node-9": no such node in the cluster (nodes: node-1, node-2, node-3)`}},
		{"manifest-as-scenario.yaml", []string{`this is a Kubernetes manifest, not a scenario`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadScenario(filepath.Join("testdata", "bad", tc.file))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// Each invalid manifest of the source material gives its golden error.
func TestInvalidManifestsGolden(t *testing.T) {
	for _, file := range glob(t, "invalid/*") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			objs, err := DecodeManifests(file, data)
			require.Error(t, err)
			assert.Nil(t, objs)
			golden(t, "invalid_"+filepath.Base(file)+".txt", err.Error()+"\n")
		})
	}
}

// What the three invalid manifests must be told: file, line, object, field.
func TestInvalidManifestMessages(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"rs-web-spaced-name.yaml", []string{
			`testdata/invalid/rs-web-spaced-name.yaml:5: ReplicaSet "rs - web": metadata.name: Invalid value: "rs - web": a lowercase RFC 1123 subdomain`}},
		{"hello-minikube-legacy.yaml", []string{
			`hello-minikube-legacy.yaml:5: ReplicaSet "hello-minikube": apiVersion: Unsupported value: "extensions/v1beta1": ReplicaSet is no longer served at extensions/v1beta1 (removed in Kubernetes 1.16): use apps/v1`,
			`hello-minikube-legacy.yaml:15: ReplicaSet "hello-minikube": spec.spec: unknown field "spec" in io.k8s.api.apps.v1.ReplicaSetSpec; is it misindented? spec.template.spec would be known`,
			`hello-minikube-legacy.yaml:9: ReplicaSet "hello-minikube": spec.selector: Required value`,
			`selector: {matchLabels: {run: hello-minikube}}`,
			`hello-minikube-legacy.yaml:11: ReplicaSet "hello-minikube": spec.template.spec.containers: Required value`}},
		{"frontend-controller-v1beta1.json", []string{
			`frontend-controller-v1beta1.json:4: ReplicationController "frontend-controller": apiVersion: Unsupported value: "v1beta1": this is the pre-1.0 Kubernetes API`,
			`spec.selector (was desiredState.replicaSelector)`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			file := filepath.Join("testdata", "invalid", tc.file)
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			_, err = DecodeManifests(file, data)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// The embedded manifests decode to exactly what the catalog decoded before the
// new decoder (sigs.k8s.io/yaml into the typed object), so the catalog's runs
// are unchanged.
func TestCatalogManifestsUnchanged(t *testing.T) {
	entries, err := catalogFS.ReadDir("manifests")
	require.NoError(t, err)
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			data, err := catalogFS.ReadFile("manifests/" + e.Name())
			require.NoError(t, err)
			objs, err := Manifest(e.Name())
			require.NoError(t, err)
			docs := splitDocuments(data)
			var i int
			for _, doc := range docs {
				var meta struct{ APIVersion, Kind string }
				require.NoError(t, yaml.Unmarshal(doc, &meta))
				if meta.Kind == "" {
					continue
				}
				key := meta.APIVersion + "/" + meta.Kind
				kind, ok := servedVersions[key]
				if !ok {
					continue // autoscaling/v1: converted now, refused before
				}
				old := apiserver.NewObject(kind)
				require.NoError(t, yaml.UnmarshalStrict(doc, old))
				old.GetObjectKind().SetGroupVersionKind(apiserver.GroupVersionOf(kind).WithKind(string(kind)))
				require.Less(t, i, len(objs))
				assert.Equal(t, old, objs[i])
				i++
			}
		})
	}
	for _, name := range Names() {
		_, err := Lookup(name)
		assert.NoError(t, err, name)
	}
}

func splitDocuments(data []byte) [][]byte {
	var out [][]byte
	for _, d := range strings.Split(string(data), "\n---\n") {
		out = append(out, []byte(d))
	}
	return out
}

// A scenario in an fs.FS (as an embedded catalog would be) reads its
// manifests from the same FS, relative to itself.
func TestParseScenarioFS(t *testing.T) {
	frontend, err := catalogFS.ReadFile("manifests/frontend.yaml")
	require.NoError(t, err)
	fsys := fstest.MapFS{
		"scenarios/a.yaml":        {Data: []byte("name: a\nmanifests: [../manifests/frontend.yaml]\nsteps:\n- at: 1m\n  scale: rs/frontend\n  replicas: 2\n")},
		"scenarios/b.yaml":        {Data: []byte("name: b\nmanifests: [nope.yaml]\n")},
		"manifests/frontend.yaml": {Data: frontend},
	}
	sc, err := ParseScenarioFS(fsys, "scenarios/a.yaml")
	require.NoError(t, err)
	assert.Equal(t, "frontend", sc.Objects[0].GetName())
	_, err = ParseScenarioFS(fsys, "scenarios/b.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `scenarios/b.yaml:2: manifests[0]: Invalid value: "nope.yaml": open scenarios/nope.yaml: file does not exist`)
}

func TestParseCondition(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "rs/frontend ready=3", want: "rs/frontend ready=3"},
		{in: "  deploy/web   available>=2 replicas<=5 ", want: "deploy/web available>=2 replicas<=5"},
		{in: "sts/web ready==2", want: "sts/web ready=2"},
		{in: "rc/frontend-controller replicas=0", want: "rc/frontend-controller replicas=0"},
		{in: "rs/frontend", err: "expected <kind>/<name> <field>=<n>"},
		{in: "rs ready=3", err: `"rs" names no object`},
		{in: "pod/pod1 ready=1", err: "a Pod has no ready/replicas/available counts"},
		{in: "rs/frontend healthy=3", err: `unknown field "healthy"`},
		{in: "rs/frontend ready=-1", err: `"-1" is not a count`},
		{in: "rs/frontend ready>3", err: `"ready>3"`},
		{in: "foo/bar ready=1", err: `unknown resource type "foo"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := ParseCondition(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.String())
		})
	}
}

func TestStepString(t *testing.T) {
	cur, grace := int32(3), int64(0)
	cond, err := ParseCondition("rs/frontend ready=3")
	require.NoError(t, err)
	for _, tc := range []struct {
		step Step
		want string
	}{
		// The catalog's steps print as they always did.
		{Step{At: 30 * time.Second, Action: Scale, Target: "rs/frontend", Replicas: 10}, "30s scale rs/frontend --replicas=10"},
		{Step{At: 90 * time.Second, Action: Annotate, Target: "pods", Selector: "tier=frontend", Limit: 3,
			Set: map[string]string{"b": "2", "a": "1"}}, "1m30s annotate pods -l tier=frontend a=1 b=2"},
		{Step{At: 90 * time.Second, Action: LoseNode, Target: "node/node-2"}, "1m30s lose-node node/node-2"},
		{Step{Action: Scale, Target: "rs/frontend", Replicas: 5, CurrentReplicas: &cur, ResourceVersion: "12"},
			"0s scale rs/frontend --replicas=5 --current-replicas=3 --resource-version=12"},
		{Step{Action: Label, Target: "pod/pod1", Set: map[string]string{"a": "1"}, Remove: []string{"b"}}, "0s label pod/pod1 a=1 b-"},
		{Step{Action: DeleteObj, Target: "pod/pod1", Cascade: "orphan", GracePeriod: &grace}, "0s delete pod/pod1 --cascade=orphan --grace-period=0"},
		{Step{After: cond, Timeout: 2 * time.Minute, Action: LoseNode, Target: "node/node-2"}, "after rs/frontend ready=3 (timeout 2m0s) lose-node node/node-2"},
		{Step{At: time.Minute, After: cond, Timeout: time.Minute, Action: Wait}, "1m0s, after rs/frontend ready=3 (timeout 1m0s) wait"},
		{Step{After: cond, Action: Wait}, "after rs/frontend ready=3 (timeout 5m0s) wait"}, // a Go-coded step without a timeout
		{Step{Action: SetImage, Target: "deploy/web", Images: map[string]string{"sidecar": "b:2", "nginx": "nginx:1.91"}}, "0s set-image deploy/web nginx=nginx:1.91 sidecar=b:2"},
		{Step{Action: RolloutUndo, Target: "deploy/web", ToRevision: 2}, "0s rollout-undo deploy/web --to-revision=2"},
		{Step{Action: RolloutPause, Target: "deploy/web"}, "0s rollout-pause deploy/web"},
		{Step{Action: RollingUpdate, Target: "rc/a", Image: "nginx:2", UpdatePeriod: time.Minute, PollInterval: 3 * time.Second, UpdateTimeout: 5 * time.Minute},
			"0s rolling-update rc/a --image=nginx:2 --update-period=1m0s --poll-interval=3s --timeout=5m0s"},
		{Step{Action: Drain, Target: "node/node-2", GracePeriod: &grace}, "0s drain node/node-2 --grace-period=0"},
		{Step{Action: AddNode, Target: "node/n", Node: &cluster.NodeSpec{Name: "n", Zone: "z", Labels: map[string]string{"b": "2", "a": "1"}}}, "0s add-node node/n --zone=z --labels=a=1,b=2"},
		{Step{Action: DeleteNode, Target: "node/n"}, "0s delete-node node/n"},
	} {
		assert.Equal(t, tc.want, tc.step.String())
	}
}

// Bad input yields nothing but the errors, whatever else in the file is fine.
func TestParseScenarioNothingOnError(t *testing.T) {
	sc, err := ParseScenario("x.yaml", []byte("name: x\nsteps:\n- at: 1m\n  scale: rs/frontend\n"), nil)
	assert.Nil(t, sc)
	require.EqualError(t, err, "x.yaml:4: steps[0].replicas: Required value: the number of replicas to scale to")

	_, err = ParseScenario("x.yaml", []byte("manifests: [frontend.yaml]\n"), nil)
	require.EqualError(t, err, `x.yaml:1: manifests[0]: Invalid value: "frontend.yaml": manifest files cannot be read here: write the manifest inline`)

	_, err = ParseScenario("x.yaml", []byte(""), nil)
	require.EqualError(t, err, "x.yaml: empty scenario: expected name, summary, cluster, manifests, steps and expect")
}
