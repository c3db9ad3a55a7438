package cluster

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// Config describes a simulated cluster as data. The zero value is a valid
// description: Defaults fills in everything left out (3 nodes, a healthy API
// server, upstream's timings). Delay distributions are pointers so that an
// explicit zero (Fixed(0)) differs from "not given".
type Config struct {
	// NodeCount nodes named node-1 … node-N, with NodeCapacity. Exclusive with
	// Nodes; with neither, 3 nodes.
	NodeCount int `json:"nodeCount,omitempty" yaml:"nodeCount,omitempty"`
	// Nodes lists the nodes one by one.
	Nodes []NodeSpec `json:"nodes,omitempty" yaml:"nodes,omitempty"`
	// NodeCapacity is the capacity of every node that does not give its own
	// (default 110 pods, 8 cpu, 32Gi memory).
	NodeCapacity Capacity `json:"nodeCapacity,omitempty" yaml:"nodeCapacity,omitempty"`

	// API is how the API server behaves in time (default apiserver.DefaultConfig()).
	API *apiserver.Config `json:"api,omitempty" yaml:"api,omitempty"`
	// WatchDelay, when given, overrides API.WatchDelay.
	WatchDelay *apiserver.Dist `json:"watchDelay,omitempty" yaml:"watchDelay,omitempty"`

	Scheduler     SchedulerConfig     `json:"scheduler,omitempty" yaml:"scheduler,omitempty"`
	Kubelet       KubeletConfig       `json:"kubelet,omitempty" yaml:"kubelet,omitempty"`
	NodeLifecycle NodeLifecycleConfig `json:"nodeLifecycle,omitempty" yaml:"nodeLifecycle,omitempty"`
	PodGC         PodGCConfig         `json:"podGC,omitempty" yaml:"podGC,omitempty"`
}

// NodeSpec describes one node.
type NodeSpec struct {
	Name   string            `json:"name" yaml:"name"`
	Labels map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	// Zone sets the topology.kubernetes.io/zone label.
	Zone     string   `json:"zone,omitempty" yaml:"zone,omitempty"`
	Capacity Capacity `json:"capacity,omitempty" yaml:"capacity,omitempty"`
	// Unschedulable starts the node cordoned.
	Unschedulable bool           `json:"unschedulable,omitempty" yaml:"unschedulable,omitempty"`
	Taints        []corev1.Taint `json:"taints,omitempty" yaml:"taints,omitempty"`
}

// Capacity is what a node offers; it is both capacity and allocatable. A zero
// quantity means "the default".
type Capacity struct {
	Pods   resource.Quantity `json:"pods,omitempty" yaml:"pods,omitempty"`
	CPU    resource.Quantity `json:"cpu,omitempty" yaml:"cpu,omitempty"`
	Memory resource.Quantity `json:"memory,omitempty" yaml:"memory,omitempty"`
}

// PodCapacity is a capacity of n pods (cpu and memory defaulted).
func PodCapacity(n int) Capacity {
	return Capacity{Pods: *resource.NewQuantity(int64(n), resource.DecimalSI)}
}

// SchedulerConfig is how the default scheduler behaves in time.
type SchedulerConfig struct {
	// CycleTime is how long one scheduling decision takes (default 1–2 ms).
	CycleTime *apiserver.Dist `json:"cycleTime,omitempty" yaml:"cycleTime,omitempty"`
	// InitialBackoff and MaxBackoff bound the wait before an unschedulable pod
	// is tried again (upstream podInitialBackoffSeconds 1, podMaxBackoffSeconds 10).
	InitialBackoff time.Duration `json:"initialBackoff,omitempty" yaml:"initialBackoff,omitempty"`
	MaxBackoff     time.Duration `json:"maxBackoff,omitempty" yaml:"maxBackoff,omitempty"`
}

// KubeletConfig is how long the kubelets take to start and stop containers.
type KubeletConfig struct {
	// ImagePull is the time to pull one image (default 1–3 s). Images pulled
	// once stay on the node: containers with imagePullPolicy IfNotPresent skip
	// the pull there; Always pulls every time.
	ImagePull *apiserver.Dist `json:"imagePull,omitempty" yaml:"imagePull,omitempty"`
	// ContainerStart is the time to create and start a container (default 0.5–1 s).
	ContainerStart *apiserver.Dist `json:"containerStart,omitempty" yaml:"containerStart,omitempty"`
	// Readiness is the time from a container running to it being ready
	// (default 0–1 s; zero makes Running and Ready one status write).
	Readiness *apiserver.Dist `json:"readiness,omitempty" yaml:"readiness,omitempty"`
	// StopDelay is how long containers take to exit after SIGTERM; the pod's
	// grace period caps it (default 0.2–1 s).
	StopDelay *apiserver.Dist `json:"stopDelay,omitempty" yaml:"stopDelay,omitempty"`
	// SyncRetry is how long the pod worker waits after a failed sync (a failed
	// image pull) before it syncs again (upstream 10 s with 50% jitter: 10–15 s).
	SyncRetry *apiserver.Dist `json:"syncRetry,omitempty" yaml:"syncRetry,omitempty"`
	// UnpullableImages cannot be pulled: their pods stay Pending, waiting with
	// ErrImagePull and ImagePullBackOff, retrying forever.
	UnpullableImages []string `json:"unpullableImages,omitempty" yaml:"unpullableImages,omitempty"`
	// ImagePullBackOff and CrashLoopBackOff: 10 s doubling to 300 s, forgotten
	// after 10 min (upstream).
	ImagePullBackOff BackOff `json:"imagePullBackOff,omitempty" yaml:"imagePullBackOff,omitempty"`
	CrashLoopBackOff BackOff `json:"crashLoopBackOff,omitempty" yaml:"crashLoopBackOff,omitempty"`
}

// BackOff is an exponential back-off: Initial doubling up to Max; an entry
// not renewed for Reset starts over at Initial.
type BackOff struct {
	Initial time.Duration `json:"initial,omitempty" yaml:"initial,omitempty"`
	Max     time.Duration `json:"max,omitempty" yaml:"max,omitempty"`
	Reset   time.Duration `json:"reset,omitempty" yaml:"reset,omitempty"`
}

// NodeLifecycleConfig is upstream's node health timing. Pods' tolerations of
// the unreachable and not-ready taints are given by the API server's
// defaulting (apiserver.DefaultTolerationSeconds, 300 s).
type NodeLifecycleConfig struct {
	// LeaseRenewal is the kubelet's lease renewal interval (10 s).
	LeaseRenewal time.Duration `json:"leaseRenewal,omitempty" yaml:"leaseRenewal,omitempty"`
	// NodeMonitorGracePeriod is how old a lease may get before the node is
	// Unknown (50 s since v1.32).
	NodeMonitorGracePeriod time.Duration `json:"nodeMonitorGracePeriod,omitempty" yaml:"nodeMonitorGracePeriod,omitempty"`
	// NodeMonitorPeriod is the controller's monitor tick (5 s).
	NodeMonitorPeriod time.Duration `json:"nodeMonitorPeriod,omitempty" yaml:"nodeMonitorPeriod,omitempty"`
}

// PodGCConfig is the pod garbage collector's.
type PodGCConfig struct {
	// Quarantine is how long a missing node may stay missing before its pods
	// are force-deleted (upstream 40 s).
	Quarantine time.Duration `json:"quarantine,omitempty" yaml:"quarantine,omitempty"`
	// TerminatedPodThreshold is how many terminated (Succeeded/Failed) pods
	// may exist before the oldest are deleted (upstream 12500).
	TerminatedPodThreshold int `json:"terminatedPodThreshold,omitempty" yaml:"terminatedPodThreshold,omitempty"`
}

// Fixed is a delay distribution that always gives d (for the pointer fields).
func Fixed(d time.Duration) *apiserver.Dist { v := apiserver.Fixed(d); return &v }

// Between is a delay uniform between min and max (for the pointer fields).
func Between(min, max time.Duration) *apiserver.Dist { return &apiserver.Dist{Min: min, Max: max} }

// The defaults.
const (
	DefaultNodeCount              = 3
	DefaultPodsPerNode            = 110
	DefaultNodeCPU                = "8"
	DefaultNodeMemory             = "32Gi"
	DefaultLeaseRenewal           = 10 * time.Second
	DefaultNodeMonitorGracePeriod = 50 * time.Second
	DefaultNodeMonitorPeriod      = 5 * time.Second
	DefaultPodGCQuarantine        = 40 * time.Second
	DefaultTerminatedPodThreshold = 12500
)

// DefaultConfig is Config{} with its defaults filled in.
func DefaultConfig() Config {
	var c Config
	c.Defaults()
	return c
}

// Defaults fills in every field left at its zero value. It never changes a
// field that was given, so it is safe to call twice.
func (c *Config) Defaults() {
	if c.NodeCount == 0 && len(c.Nodes) == 0 {
		c.NodeCount = DefaultNodeCount
	}
	c.NodeCapacity.defaults(nil)
	c.Nodes = append([]NodeSpec(nil), c.Nodes...) // do not write into the caller's slice
	for i := range c.Nodes {
		c.Nodes[i].Capacity.defaults(&c.NodeCapacity)
	}
	if c.API == nil {
		api := apiserver.DefaultConfig()
		c.API = &api
	}
	s := &c.Scheduler
	defDist(&s.CycleTime, time.Millisecond, 2*time.Millisecond)
	defDur(&s.InitialBackoff, time.Second)
	defDur(&s.MaxBackoff, 10*time.Second)

	k := &c.Kubelet
	defDist(&k.ImagePull, time.Second, 3*time.Second)
	defDist(&k.ContainerStart, 500*time.Millisecond, time.Second)
	defDist(&k.Readiness, 0, time.Second)
	defDist(&k.StopDelay, 200*time.Millisecond, time.Second)
	defDist(&k.SyncRetry, 10*time.Second, 15*time.Second)
	for _, b := range []*BackOff{&k.ImagePullBackOff, &k.CrashLoopBackOff} {
		defDur(&b.Initial, 10*time.Second)
		defDur(&b.Max, 300*time.Second)
		defDur(&b.Reset, 10*time.Minute)
	}

	n := &c.NodeLifecycle
	defDur(&n.LeaseRenewal, DefaultLeaseRenewal)
	defDur(&n.NodeMonitorGracePeriod, DefaultNodeMonitorGracePeriod)
	defDur(&n.NodeMonitorPeriod, DefaultNodeMonitorPeriod)

	defDur(&c.PodGC.Quarantine, DefaultPodGCQuarantine)
	if c.PodGC.TerminatedPodThreshold == 0 {
		c.PodGC.TerminatedPodThreshold = DefaultTerminatedPodThreshold
	}
}

func (cp *Capacity) defaults(from *Capacity) {
	def := func(q *resource.Quantity, inherit *resource.Quantity, s string) {
		if !q.IsZero() {
			return
		}
		if inherit != nil && !inherit.IsZero() {
			*q = inherit.DeepCopy()
			return
		}
		*q = resource.MustParse(s)
	}
	var p, c, m *resource.Quantity
	if from != nil {
		p, c, m = &from.Pods, &from.CPU, &from.Memory
	}
	def(&cp.Pods, p, fmt.Sprint(DefaultPodsPerNode))
	def(&cp.CPU, c, DefaultNodeCPU)
	def(&cp.Memory, m, DefaultNodeMemory)
}

func defDist(d **apiserver.Dist, min, max time.Duration) {
	if *d == nil {
		*d = &apiserver.Dist{Min: min, Max: max}
	}
}

func defDur(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

// NodeSpecs is the node list the config describes: Nodes, or node-1 …
// node-NodeCount, with capacities defaulted.
func (c *Config) NodeSpecs() []NodeSpec {
	if len(c.Nodes) > 0 {
		out := make([]NodeSpec, len(c.Nodes))
		for i, n := range c.Nodes {
			out[i] = n
			out[i].Capacity.defaults(&c.NodeCapacity)
		}
		return out
	}
	out := make([]NodeSpec, c.NodeCount)
	for i := range out {
		out[i] = NodeSpec{Name: fmt.Sprintf("node-%d", i+1)}
		out[i].Capacity.defaults(&c.NodeCapacity)
	}
	return out
}

// ParseConfig reads a Config from YAML or JSON. Fields it does not know are
// errors; the result is defaulted and validated.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return Config{}, fmt.Errorf("cluster config: %w", err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports every invalid value, each naming its field (as in
// "nodes[1].name: Duplicate value: \"node-a\""). Call it on a defaulted config.
func (c *Config) Validate() error {
	var errs field.ErrorList
	if c.NodeCount < 0 {
		errs = append(errs, field.Invalid(field.NewPath("nodeCount"), c.NodeCount, "must be greater than or equal to 0"))
	}
	if c.NodeCount > 0 && len(c.Nodes) > 0 {
		errs = append(errs, field.Forbidden(field.NewPath("nodeCount"), "may not be set together with nodes"))
	}
	errs = append(errs, validateCapacity(&c.NodeCapacity, field.NewPath("nodeCapacity"))...)
	names := map[string]bool{}
	for i := range c.Nodes {
		p := field.NewPath("nodes").Index(i)
		errs = append(errs, validateNodeSpec(&c.Nodes[i], p)...)
		if n := c.Nodes[i].Name; n != "" {
			if names[n] {
				errs = append(errs, field.Duplicate(p.Child("name"), n))
			}
			names[n] = true
		}
	}
	if c.API != nil {
		errs = append(errs, validateAPI(c.API, field.NewPath("api"))...)
	}
	errs = append(errs, validateDist(c.WatchDelay, field.NewPath("watchDelay"))...)

	sp := field.NewPath("scheduler")
	errs = append(errs, validateDist(c.Scheduler.CycleTime, sp.Child("cycleTime"))...)
	errs = append(errs, positive(c.Scheduler.InitialBackoff, sp.Child("initialBackoff"))...)
	if c.Scheduler.MaxBackoff < c.Scheduler.InitialBackoff {
		errs = append(errs, field.Invalid(sp.Child("maxBackoff"), c.Scheduler.MaxBackoff.String(), "must be greater than or equal to initialBackoff"))
	}

	kp := field.NewPath("kubelet")
	k := &c.Kubelet
	errs = append(errs, validateDist(k.ImagePull, kp.Child("imagePull"))...)
	errs = append(errs, validateDist(k.ContainerStart, kp.Child("containerStart"))...)
	errs = append(errs, validateDist(k.Readiness, kp.Child("readiness"))...)
	errs = append(errs, validateDist(k.StopDelay, kp.Child("stopDelay"))...)
	errs = append(errs, validateDist(k.SyncRetry, kp.Child("syncRetry"))...)
	images := map[string]bool{}
	for i, img := range k.UnpullableImages {
		p := kp.Child("unpullableImages").Index(i)
		switch {
		case img == "":
			errs = append(errs, field.Required(p, "an image name"))
		case images[img]:
			errs = append(errs, field.Duplicate(p, img))
		}
		images[img] = true
	}
	errs = append(errs, validateBackOff(&k.ImagePullBackOff, kp.Child("imagePullBackOff"))...)
	errs = append(errs, validateBackOff(&k.CrashLoopBackOff, kp.Child("crashLoopBackOff"))...)

	np := field.NewPath("nodeLifecycle")
	errs = append(errs, positive(c.NodeLifecycle.LeaseRenewal, np.Child("leaseRenewal"))...)
	errs = append(errs, positive(c.NodeLifecycle.NodeMonitorGracePeriod, np.Child("nodeMonitorGracePeriod"))...)
	errs = append(errs, positive(c.NodeLifecycle.NodeMonitorPeriod, np.Child("nodeMonitorPeriod"))...)

	gp := field.NewPath("podGC")
	errs = append(errs, positive(c.PodGC.Quarantine, gp.Child("quarantine"))...)
	if c.PodGC.TerminatedPodThreshold < 0 {
		errs = append(errs, field.Invalid(gp.Child("terminatedPodThreshold"), c.PodGC.TerminatedPodThreshold, "must be greater than or equal to 0"))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid cluster config: %w", errs.ToAggregate())
}

func validateNodeSpec(n *NodeSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if n.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(n.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), n.Name, msg))
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(n.Labels, p.Child("labels"))...)
	for _, msg := range content.IsLabelValue(n.Zone) {
		errs = append(errs, field.Invalid(p.Child("zone"), n.Zone, msg))
	}
	errs = append(errs, validateCapacity(&n.Capacity, p.Child("capacity"))...)
	for i, t := range n.Taints {
		tp := p.Child("taints").Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, tp.Child("key"))...)
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect, []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}))
		}
	}
	return errs
}

func validateCapacity(c *Capacity, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, q := range []struct {
		name string
		v    *resource.Quantity
	}{{"pods", &c.Pods}, {"cpu", &c.CPU}, {"memory", &c.Memory}} {
		if q.v.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child(q.name), q.v.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}

var knownVerbs = map[apiserver.Verb]bool{apiserver.Get: true, apiserver.List: true, apiserver.Watch: true,
	apiserver.Create: true, apiserver.Update: true, apiserver.Patch: true, apiserver.Delete: true}

func validateAPI(a *apiserver.Config, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	verbs := make([]string, 0, len(a.Latency))
	for v := range a.Latency {
		verbs = append(verbs, string(v))
	}
	for _, v := range slices.Sorted(maps.Keys(toSet(verbs))) {
		verb := apiserver.Verb(v)
		if !knownVerbs[verb] {
			errs = append(errs, field.NotSupported(p.Child("Latency").Key(v), v, []string{"get", "list", "watch", "create", "update", "patch", "delete"}))
			continue
		}
		d := a.Latency[verb]
		errs = append(errs, validateDist(&d, p.Child("Latency").Key(v))...)
	}
	errs = append(errs, validateDist(&a.DefaultLatency, p.Child("DefaultLatency"))...)
	errs = append(errs, validateDist(&a.WatchDelay, p.Child("WatchDelay"))...)
	if a.WatchWindow < 0 {
		errs = append(errs, field.Invalid(p.Child("WatchWindow"), a.WatchWindow.String(), "must be greater than or equal to 0"))
	}
	if a.WatchCapacity < 0 {
		errs = append(errs, field.Invalid(p.Child("WatchCapacity"), a.WatchCapacity, "must be greater than or equal to 0"))
	}
	return errs
}

func toSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

func validateDist(d *apiserver.Dist, p *field.Path) field.ErrorList {
	if d == nil {
		return nil
	}
	var errs field.ErrorList
	if d.Min < 0 {
		errs = append(errs, field.Invalid(p.Child("min"), d.Min.String(), "must be greater than or equal to 0"))
	}
	if d.Max < d.Min {
		errs = append(errs, field.Invalid(p.Child("max"), d.Max.String(), "must be greater than or equal to min"))
	}
	return errs
}

func validateBackOff(b *BackOff, p *field.Path) field.ErrorList {
	errs := positive(b.Initial, p.Child("initial"))
	if b.Max < b.Initial {
		errs = append(errs, field.Invalid(p.Child("max"), b.Max.String(), "must be greater than or equal to initial"))
	}
	return append(errs, positive(b.Reset, p.Child("reset"))...)
}

func positive(d time.Duration, p *field.Path) field.ErrorList {
	if d <= 0 {
		return field.ErrorList{field.Invalid(p, d.String(), "must be greater than 0")}
	}
	return nil
}
