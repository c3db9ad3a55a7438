package apiserver

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// MetricsSource is the simulated resource metrics API (metrics.k8s.io, as
// metrics-server serves it): what autoscalers read. It is not part of the
// object store: reading it takes no virtual time and is not in the history.
// Implementations must be deterministic (a function of the store and the
// virtual time) and cheap: an autoscaler reads it every sync.
type MetricsSource interface {
	// PodMetrics lists the usage of the pods of namespace that match selector
	// and have a sample (metrics-server reports only running pods it has
	// scraped twice), in pod name order: GET
	// /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods?labelSelector=SEL.
	PodMetrics(namespace string, selector labels.Selector) []PodMetrics
}

// PodMetrics is one pod's entry of the metrics API (metrics.k8s.io PodMetrics).
type PodMetrics struct {
	Name string
	// Timestamp is when the sample was taken, Window the span its rate
	// covers (the time between the two scrapes it was computed from).
	Timestamp  time.Time
	Window     time.Duration
	Containers []ContainerMetrics
}

// ContainerMetrics is one container's usage.
type ContainerMetrics struct {
	Name string
	// CPU in millicores.
	CPU int64
}

// CPU is the pod's CPU use in millicores: the sum over its containers.
func (m PodMetrics) CPU() int64 {
	var n int64
	for _, c := range m.Containers {
		n += c.CPU
	}
	return n
}

// DefaultContainerCPURequest is the CPU request, in millicores, of a
// container that sets neither a request nor a limit: what a LimitRange with a
// defaultRequest of 100m (as GKE's "limits" LimitRange in the default
// namespace) gives it. The simulated API server has no LimitRanger admission,
// so it does not write this into pods; the metrics source and the autoscaler
// models read requests through ContainerCPURequest so that they agree.
const DefaultContainerCPURequest = 100

// ContainerCPURequest is a container's CPU request in millicores: its request,
// else its limit (the API server defaults a missing request to the limit),
// else DefaultContainerCPURequest.
func ContainerCPURequest(c *corev1.Container) int64 {
	if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		return q.MilliValue()
	}
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		return q.MilliValue()
	}
	return DefaultContainerCPURequest
}
