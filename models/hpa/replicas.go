package hpa

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	corev1 "k8s.io/api/core/v1"
)

// tolerances are the usage ratios around 1 within which nothing changes.
type tolerances struct{ down, up float64 }

func (t tolerances) within(ratio float64) bool { return 1-t.down <= ratio && ratio <= 1+t.up }

// sample is one pod's metric, as the metrics client hands it on: a value in
// milli-units, when it was taken and the window it covers.
type sample struct {
	value     int64
	timestamp time.Time
	window    time.Duration
}

// calculator is the replica calculation of pkg/controller/podautoscaler:
// which pods count, how missing and unready ones are assumed to behave, and
// the proposal. It reads nothing but what it is given.
type calculator struct {
	now                   time.Time
	cpuInitialization     time.Duration // --horizontal-pod-autoscaler-cpu-initialization-period
	initialReadinessDelay time.Duration // --horizontal-pod-autoscaler-initial-readiness-delay
}

// podGroups sorts the pods of a target for one metric: ready pods with a
// sample count as they are; unready ones (Pending, or for CPU not yet ready or
// sampled too soon after becoming ready) and those without a sample get
// assumed values; terminating and failed ones are ignored.
type podGroups struct {
	ready            int
	unready, missing []string // pod names, in the order the pods came
	ignored          map[string]bool
}

func (c *calculator) group(pods []*corev1.Pod, metrics map[string]sample, cpu bool) podGroups {
	g := podGroups{ignored: map[string]bool{}}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodFailed {
			g.ignored[pod.Name] = true
			continue
		}
		if pod.Status.Phase == corev1.PodPending {
			g.unready = append(g.unready, pod.Name)
			continue
		}
		m, ok := metrics[pod.Name]
		if !ok {
			g.missing = append(g.missing, pod.Name)
			continue
		}
		if cpu && c.cpuUnready(pod, m) {
			g.unready = append(g.unready, pod.Name)
			continue
		}
		g.ready++
	}
	return g
}

// cpuUnready: a CPU sample of a pod still starting up is not trusted. Within
// the initialization period after the pod's start, the pod must be ready and
// the sample taken a full window after it became ready; later, only a pod that
// is unready and has never been ready (its readiness last changed within the
// initial readiness delay of its start) is set aside.
func (c *calculator) cpuUnready(pod *corev1.Pod, m sample) bool {
	cond := kube.GetPodReadyCondition(&pod.Status)
	if cond == nil || pod.Status.StartTime == nil {
		return true
	}
	start := pod.Status.StartTime.Time
	if start.Add(c.cpuInitialization).After(c.now) {
		return cond.Status == corev1.ConditionFalse || m.timestamp.Before(cond.LastTransitionTime.Add(m.window))
	}
	return cond.Status == corev1.ConditionFalse && start.Add(c.initialReadinessDelay).After(cond.LastTransitionTime.Time)
}

// requests is each pod's CPU request in millicores: the pod-level request
// when the pod has one and no container is named, else the sum over its
// containers (restartable init containers included), or the named container's.
func requests(pods []*corev1.Pod, container string) (map[string]int64, error) {
	out := make(map[string]int64, len(pods))
	for _, pod := range pods {
		if container == "" && pod.Spec.Resources != nil {
			if q, ok := pod.Spec.Resources.Requests[corev1.ResourceCPU]; ok {
				out[pod.Name] = q.MilliValue()
				continue
			}
		}
		ctrs := append([]corev1.Container(nil), pod.Spec.Containers...)
		for _, c := range pod.Spec.InitContainers {
			if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
				ctrs = append(ctrs, c)
			}
		}
		var sum int64
		found := container == ""
		for i := range ctrs {
			if container == "" || ctrs[i].Name == container {
				sum += apiserver.ContainerCPURequest(&ctrs[i])
			}
			if ctrs[i].Name == container {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("container %s not found in Pod %s", container, pod.Name)
		}
		out[pod.Name] = sum
	}
	return out, nil
}

// utilization is the metrics' total over the requests' total of the pods that
// have both, in whole percent (truncated, as upstream), its ratio to the
// target, and the average raw value per such pod.
func utilization(metrics map[string]sample, reqs map[string]int64, target int32) (ratio float64, percent int32, average int64, err error) {
	var used, requested int64
	n := 0
	for name, m := range metrics { // sums: the order does not matter
		r, ok := reqs[name]
		if !ok {
			continue // a sample of a pod the cache does not know yet
		}
		used += m.value
		requested += r
		n++
	}
	if requested == 0 {
		return 0, 0, 0, errors.New("no metrics returned matched known pods")
	}
	percent = int32(used * 100 / requested)
	return float64(percent) / float64(target), percent, used / int64(n), nil
}

// plainUsage is the average of the samples and its ratio to the target.
func plainUsage(metrics map[string]sample, target int64) (ratio float64, average int64) {
	var sum int64
	for _, m := range metrics {
		sum += m.value
	}
	average = sum / int64(len(metrics))
	return float64(average) / float64(target), average
}

// resourceReplicas is GetResourceReplicas: the replica count that brings the
// average utilization (percent of request) of the target's pods to target.
func (c *calculator) resourceReplicas(current, target int32, tol tolerances, pods []*corev1.Pod, metrics map[string]sample, container string) (replicas, percent int32, average int64, err error) {
	if len(pods) == 0 {
		return 0, 0, 0, errors.New("no pods returned by selector while calculating replica count")
	}
	g := c.group(pods, metrics, true)
	metrics = dropSamples(metrics, g)
	if len(metrics) == 0 {
		return 0, 0, 0, errors.New("did not receive metrics for targeted pods (pods might be unready)")
	}
	reqs, err := requests(pods, container)
	if err != nil {
		return 0, 0, 0, err
	}
	ratio, percent, average, err := utilization(metrics, reqs, target)
	if err != nil {
		return 0, 0, 0, err
	}
	withUnready := len(g.unready) > 0 && ratio > 1
	if !withUnready && len(g.missing) == 0 {
		if tol.within(ratio) {
			return current, percent, average, nil
		}
		return ceil32(ratio * float64(g.ready)), percent, average, nil
	}
	// Assume the worst for the direction of the change: on a scale-down a pod
	// without a sample uses its whole request (or the target, above 100%);
	// on a scale-up it and the unready pods use nothing.
	if len(g.missing) > 0 {
		for _, name := range g.missing {
			switch {
			case ratio < 1:
				metrics[name] = sample{value: reqs[name] * int64(max(100, target)) / 100}
			case ratio > 1:
				metrics[name] = sample{}
			}
		}
	}
	if withUnready {
		for _, name := range g.unready {
			metrics[name] = sample{}
		}
	}
	newRatio, _, _, err := utilization(metrics, reqs, target)
	if err != nil {
		return 0, percent, average, err
	}
	return c.assumed(current, ratio, newRatio, len(metrics), tol), percent, average, nil
}

// plainReplicas is calcPlainMetricReplicas: the same for a target average
// value (milli-units per pod) instead of a utilization.
func (c *calculator) plainReplicas(current int32, target int64, tol tolerances, pods []*corev1.Pod, metrics map[string]sample, cpu bool) (replicas int32, average int64, err error) {
	if len(pods) == 0 {
		return 0, 0, errors.New("no pods returned by selector while calculating replica count")
	}
	g := c.group(pods, metrics, cpu)
	metrics = dropSamples(metrics, g)
	if len(metrics) == 0 {
		return 0, 0, errors.New("did not receive metrics for targeted pods (pods might be unready)")
	}
	ratio, average := plainUsage(metrics, target)
	withUnready := len(g.unready) > 0 && ratio > 1
	if !withUnready && len(g.missing) == 0 {
		if tol.within(ratio) {
			return current, average, nil
		}
		return ceil32(ratio * float64(g.ready)), average, nil
	}
	if len(g.missing) > 0 {
		for _, name := range g.missing {
			switch {
			case ratio < 1:
				metrics[name] = sample{value: target} // exactly on target
			case ratio > 1:
				metrics[name] = sample{}
			}
		}
	}
	if withUnready {
		for _, name := range g.unready {
			metrics[name] = sample{}
		}
	}
	newRatio, _ := plainUsage(metrics, target)
	return c.assumed(current, ratio, newRatio, len(metrics), tol), average, nil
}

// assumed is the proposal once missing and unready pods got their assumed
// values: no change when that lands within tolerance or reverses the
// direction, or when counting the pods would.
func (c *calculator) assumed(current int32, ratio, newRatio float64, n int, tol tolerances) int32 {
	if tol.within(newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1) {
		return current
	}
	proposal := ceil32(newRatio * float64(n))
	if (newRatio < 1 && proposal > current) || (newRatio > 1 && proposal < current) {
		return current
	}
	return proposal
}

// dropSamples is the metrics without the ignored and unready pods' samples
// (a fresh map: the caller's is not changed).
func dropSamples(metrics map[string]sample, g podGroups) map[string]sample {
	unready := make(map[string]bool, len(g.unready))
	for _, n := range g.unready {
		unready[n] = true
	}
	out := make(map[string]sample, len(metrics))
	for name, m := range metrics {
		if !g.ignored[name] && !unready[name] {
			out[name] = m
		}
	}
	return out
}

func ceil32(f float64) int32 {
	c := math.Ceil(f)
	if c > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(c)
}

// samplesOf turns the metrics API's answer into samples: the pod's total, or
// one container's (pods without that container have no sample).
func samplesOf(list []apiserver.PodMetrics, container string) map[string]sample {
	out := make(map[string]sample, len(list))
	for _, pm := range list {
		s := sample{timestamp: pm.Timestamp, window: pm.Window}
		if container == "" {
			if len(pm.Containers) == 0 {
				continue
			}
			s.value = pm.CPU()
			out[pm.Name] = s
			continue
		}
		for _, c := range pm.Containers {
			if c.Name == container {
				s.value = c.CPU
				out[pm.Name] = s
				break
			}
		}
	}
	return out
}
