package cluster

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestDefaults(t *testing.T) {
	c := DefaultConfig()
	assert.Equal(t, 3, c.NodeCount)
	specs := c.NodeSpecs()
	require.Len(t, specs, 3)
	assert.Equal(t, []string{"node-1", "node-2", "node-3"}, []string{specs[0].Name, specs[1].Name, specs[2].Name})
	assert.Equal(t, int64(110), specs[0].Capacity.Pods.Value())
	assert.Equal(t, apiserver.Dist{Min: time.Second, Max: 3 * time.Second}, *c.Kubelet.ImagePull)
	assert.Equal(t, apiserver.Dist{Min: 500 * time.Millisecond, Max: time.Second}, *c.Kubelet.ContainerStart)
	assert.Equal(t, apiserver.Dist{Max: time.Second}, *c.Kubelet.Readiness)
	assert.Equal(t, BackOff{Initial: 10 * time.Second, Max: 300 * time.Second, Reset: 10 * time.Minute}, c.Kubelet.CrashLoopBackOff)
	assert.Equal(t, BackOff{Initial: 10 * time.Second, Max: 300 * time.Second, Reset: 10 * time.Minute}, c.Kubelet.ImagePullBackOff)
	assert.Equal(t, NodeLifecycleConfig{LeaseRenewal: 10 * time.Second, NodeMonitorGracePeriod: 50 * time.Second, NodeMonitorPeriod: 5 * time.Second}, c.NodeLifecycle)
	assert.Equal(t, 40*time.Second, c.PodGC.Quarantine)
	assert.Equal(t, apiserver.DefaultConfig().DefaultLatency, c.API.DefaultLatency)
	assert.NoError(t, c.Validate())

	// An explicit zero delay is not replaced by the default.
	c = Config{Kubelet: KubeletConfig{Readiness: Fixed(0)}}
	c.Defaults()
	assert.Equal(t, apiserver.Fixed(0), *c.Kubelet.Readiness)

	// Listed nodes inherit NodeCapacity; Defaults does not write into the caller's slice.
	nodes := []NodeSpec{{Name: "a"}, {Name: "b", Capacity: PodCapacity(5)}}
	c = Config{Nodes: nodes, NodeCapacity: PodCapacity(7)}
	c.Defaults()
	assert.Equal(t, 0, c.NodeCount)
	specs = c.NodeSpecs()
	assert.Equal(t, int64(7), specs[0].Capacity.Pods.Value())
	assert.Equal(t, int64(5), specs[1].Capacity.Pods.Value())
	assert.True(t, nodes[0].Capacity.Pods.IsZero())
}

func TestValidationNamesTheField(t *testing.T) {
	neg := resource.MustParse("-1")
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"negative count", Config{NodeCount: -2}, []string{"nodeCount: Invalid value: -2"}},
		{"count and list", Config{NodeCount: 2, Nodes: []NodeSpec{{Name: "a"}}}, []string{"nodeCount: Forbidden"}},
		{"duplicate names", Config{Nodes: []NodeSpec{{Name: "a"}, {Name: "b"}, {Name: "a"}}}, []string{`nodes[2].name: Duplicate value: "a"`}},
		{"missing name", Config{Nodes: []NodeSpec{{}}}, []string{"nodes[0].name: Required value"}},
		{"bad name", Config{Nodes: []NodeSpec{{Name: "Node_1"}}}, []string{`nodes[0].name: Invalid value: "Node_1"`}},
		{"bad zone", Config{Nodes: []NodeSpec{{Name: "a", Zone: "us east"}}}, []string{`nodes[0].zone: Invalid value: "us east"`}},
		{"bad label", Config{Nodes: []NodeSpec{{Name: "a", Labels: map[string]string{"a b": "c"}}}}, []string{"nodes[0].labels: Invalid value"}},
		{"negative capacity", Config{Nodes: []NodeSpec{{Name: "a", Capacity: Capacity{Pods: neg}}}}, []string{"nodes[0].capacity.pods: Invalid value"}},
		{"bad taint", Config{Nodes: []NodeSpec{{Name: "a", Taints: []corev1.Taint{{Key: "k", Effect: "Sometimes"}}}}}, []string{"nodes[0].taints[0].effect: Unsupported value"}},
		{"inverted dist", Config{Kubelet: KubeletConfig{ImagePull: Between(3*time.Second, time.Second)}}, []string{"kubelet.imagePull.max: Invalid value"}},
		{"negative dist", Config{Kubelet: KubeletConfig{Readiness: Between(-time.Second, 0)}}, []string{"kubelet.readiness.min: Invalid value"}},
		{"negative grace", Config{NodeLifecycle: NodeLifecycleConfig{NodeMonitorGracePeriod: -time.Second}}, []string{"nodeLifecycle.nodeMonitorGracePeriod: Invalid value"}},
		{"duplicate image", Config{Kubelet: KubeletConfig{UnpullableImages: []string{"x", "x"}}}, []string{`kubelet.unpullableImages[1]: Duplicate value: "x"`}},
		{"backoff max below initial", Config{Kubelet: KubeletConfig{CrashLoopBackOff: BackOff{Initial: time.Minute, Max: time.Second}}}, []string{"kubelet.crashLoopBackOff.max: Invalid value"}},
		{"unknown verb", Config{API: &apiserver.Config{Latency: map[apiserver.Verb]apiserver.Dist{"fetch": {}}}}, []string{"api.Latency[fetch]: Unsupported value"}},
		{"several at once", Config{NodeCount: -1, PodGC: PodGCConfig{TerminatedPodThreshold: -5}},
			[]string{"nodeCount: Invalid value", "podGC.terminatedPodThreshold: Invalid value"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(sim.New(1, sim.Limits{}), tc.cfg)
			require.Error(t, err)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
nodes:
  - name: a
    zone: zone-a
    labels: {disk: ssd}
    capacity: {pods: "20", cpu: "4"}
  - name: b
    zone: zone-b
kubelet:
  unpullableImages: [broken:v1]
  imagePull: {min: 0, max: 0}
nodeLifecycle:
  nodeMonitorGracePeriod: 40000000000
`))
	require.NoError(t, err)
	specs := c.NodeSpecs()
	require.Len(t, specs, 2)
	assert.Equal(t, "zone-a", specs[0].Zone)
	assert.Equal(t, int64(20), specs[0].Capacity.Pods.Value())
	assert.Equal(t, int64(110), specs[1].Capacity.Pods.Value())
	assert.Equal(t, apiserver.Fixed(0), *c.Kubelet.ImagePull, "explicit zero survives defaulting")
	assert.Equal(t, 40*time.Second, c.NodeLifecycle.NodeMonitorGracePeriod)
	assert.Equal(t, 5*time.Second, c.NodeLifecycle.NodeMonitorPeriod)

	_, err = ParseConfig([]byte(`{"nodeCont": 3}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown field "nodeCont"`)

	_, err = ParseConfig([]byte(`{"nodes": [{"name": "a"}, {"name": "a"}]}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `nodes[1].name: Duplicate value: "a"`)

	// A defaulted config survives a JSON round trip.
	def := DefaultConfig()
	data, err := json.Marshal(def)
	require.NoError(t, err)
	back, err := ParseConfig(data)
	require.NoError(t, err)
	assert.Equal(t, def.Kubelet, back.Kubelet)
	assert.Equal(t, def.NodeLifecycle, back.NodeLifecycle)
}

func TestNodeObjects(t *testing.T) {
	cfg := fixedConfig()
	cfg.Nodes = []NodeSpec{{Name: "a", Zone: "z1", Labels: map[string]string{"disk": "ssd"}, Capacity: PodCapacity(20)}, {Name: "b", Unschedulable: true}}
	_, c := newTestCluster(t, cfg)
	a := getNode(c, "a")
	require.NotNil(t, a)
	assert.Equal(t, map[string]string{"disk": "ssd", corev1.LabelHostname: "a", corev1.LabelTopologyZone: "z1",
		corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64"}, a.Labels)
	assert.Equal(t, corev1.ConditionTrue, nodeReadyStatus(a))
	assert.Equal(t, int64(20), a.Status.Capacity.Pods().Value())
	assert.Equal(t, int64(20), a.Status.Allocatable.Pods().Value())
	assert.Equal(t, "8", a.Status.Capacity.Cpu().String())
	assert.True(t, getNode(c, "b").Spec.Unschedulable)
	assert.Equal(t, []string{"a", "b"}, c.Nodes())
}
