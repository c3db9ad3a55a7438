package workloads

import (
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Metrics-server's timing: it scrapes every kubelet every MetricResolution;
// a container's CPU rate needs two scrapes, so a sample covers one
// resolution (its window).
const MetricResolution = 15 * time.Second

// LoadMetrics is the metrics API of a run: the pods' CPU use follows the
// scenario's load curve (Scenario.Load). From a point's At on, every pod of
// its Target uses CPU percent of its CPU request (apiserver.ContainerCPURequest,
// per container); a pod matched by no point uses 0%.
//
// Precedence: a point naming an object (rs/frontend: the pods it controls;
// deploy/web: the pods of its ReplicaSets; pod/p: that pod) beats a point
// for every pod (no target); among the points that apply, the latest wins
// (points are in time order; for equal times the one written last).
//
// As metrics-server: samples are taken every MetricResolution of virtual time
// (the reading at time t is the sample of the last multiple of the
// resolution, with the load in force then); only Running pods whose
// containers all ran since before the previous scrape have one.
//
// It reads the API server's objects directly (no request, no history), so
// it is deterministic, and costs one pass over the pods per read.
func LoadMetrics(sc *Scenario, api *apiserver.Server) apiserver.MetricsSource {
	m := &loadMetrics{api: api}
	for i, lp := range sc.Load {
		p := loadPoint{at: lp.At, cpu: int64(lp.CPU), order: i}
		if lp.Target != "" {
			kind, name, err := ParseTarget(lp.Target)
			if err != nil || name == "" {
				continue // the parser refuses these; a scenario built in code may not
			}
			p.kind, p.name = kind, name
		}
		m.points = append(m.points, p)
	}
	sort.SliceStable(m.points, func(i, j int) bool { return m.points[i].at < m.points[j].at })
	return m
}

type loadMetrics struct {
	api    *apiserver.Server
	points []loadPoint // by at, then as written
}

type loadPoint struct {
	at    time.Duration
	kind  apiserver.Kind // "" for every pod
	name  string
	cpu   int64 // percent of the request
	order int
}

func (m *loadMetrics) PodMetrics(namespace string, selector labels.Selector) []apiserver.PodMetrics {
	w := m.api.World()
	elapsed := w.Elapsed()
	sample := elapsed - elapsed%MetricResolution
	if sample < MetricResolution {
		return nil // no pod has been scraped twice yet
	}
	ts := w.Now().Add(sample - elapsed)
	earliest := ts.Add(-MetricResolution) // containers must have run since the previous scrape
	var out []apiserver.PodMetrics
	for _, o := range m.api.Objects(apiserver.Pods) { // in key order: namespace, then name
		pod := o.(*corev1.Pod)
		if pod.Namespace != namespace || pod.Status.Phase != corev1.PodRunning ||
			(selector != nil && !selector.Matches(labels.Set(pod.Labels))) || !runningSince(pod, earliest) {
			continue
		}
		pct := m.cpuPercent(pod, sample)
		pm := apiserver.PodMetrics{Name: pod.Name, Timestamp: ts, Window: MetricResolution,
			Containers: make([]apiserver.ContainerMetrics, len(pod.Spec.Containers))}
		for i := range pod.Spec.Containers {
			c := &pod.Spec.Containers[i]
			pm.Containers[i] = apiserver.ContainerMetrics{Name: c.Name, CPU: apiserver.ContainerCPURequest(c) * pct / 100}
		}
		out = append(out, pm)
	}
	return out
}

// runningSince: every container of the pod is running, and started at or
// before t.
func runningSince(pod *corev1.Pod, t time.Time) bool {
	if len(pod.Status.ContainerStatuses) < len(pod.Spec.Containers) {
		return false
	}
	for _, cs := range pod.Status.ContainerStatuses {
		r := cs.State.Running
		if r == nil || r.StartedAt.Time.After(t) {
			return false
		}
	}
	return true
}

// cpuPercent is the load on pod at virtual time at.
func (m *loadMetrics) cpuPercent(pod *corev1.Pod, at time.Duration) int64 {
	var pct int64
	named := false
	for _, p := range m.points {
		if p.at > at {
			break
		}
		switch {
		case p.kind == "":
			if !named {
				pct = p.cpu
			}
		case m.owns(p.kind, p.name, pod):
			pct, named = p.cpu, true
		}
	}
	return pct
}

// owns reports whether the object kind/name (in the pod's namespace) is the
// pod, its controller, or (for a Deployment) its controller's controller.
// Controller references count only when they name the live object (uid).
func (m *loadMetrics) owns(kind apiserver.Kind, name string, pod *corev1.Pod) bool {
	if kind == apiserver.Pods {
		return pod.Name == name
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return false
	}
	if kind == apiserver.Deployments {
		if ref.Kind != string(apiserver.ReplicaSets) {
			return false
		}
		rs := m.lookup(apiserver.ReplicaSets, pod.Namespace, ref.Name)
		if rs == nil || rs.GetUID() != ref.UID {
			return false
		}
		ref = metav1.GetControllerOfNoCopy(rs)
		if ref == nil {
			return false
		}
	}
	if ref.Kind != string(kind) || ref.Name != name {
		return false
	}
	owner := m.lookup(kind, pod.Namespace, name)
	return owner != nil && owner.GetUID() == ref.UID
}

// lookup finds a stored object by binary search in the server's key order.
func (m *loadMetrics) lookup(kind apiserver.Kind, namespace, name string) apiserver.Object {
	objs := m.api.Objects(kind)
	i := sort.Search(len(objs), func(i int) bool {
		o := objs[i]
		if o.GetNamespace() != namespace {
			return o.GetNamespace()+"/" > namespace+"/"
		}
		return o.GetName() >= name
	})
	if i < len(objs) && objs[i].GetNamespace() == namespace && objs[i].GetName() == name {
		return objs[i]
	}
	return nil
}
