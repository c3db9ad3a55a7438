package apiserver

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Defaulting as the real API server applies it (the fields controllers and the
// kubelet read; the rest is left as written).

// DefaultTolerationSeconds is what the DefaultTolerationSeconds admission plugin
// gives every pod for the not-ready and unreachable taints.
const DefaultTolerationSeconds int64 = 300

func defaultPodSpec(spec *corev1.PodSpec) {
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	defaultTo(&spec.TerminationGracePeriodSeconds, int64(corev1.DefaultTerminationGracePeriodSeconds))
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		if c.ImagePullPolicy == "" {
			c.ImagePullPolicy = corev1.PullIfNotPresent
			if tag := imageTag(c.Image); tag == "" || tag == "latest" {
				c.ImagePullPolicy = corev1.PullAlways
			}
		}
		if c.TerminationMessagePolicy == "" {
			c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
		}
	}
}

func imageTag(image string) string {
	if i := strings.LastIndex(image, "@"); i >= 0 {
		return image[i:]
	}
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[i+1:]
	}
	return ""
}

func defaultPod(pod *corev1.Pod) {
	defaultPodSpec(&pod.Spec)
	addDefaultToleration(&pod.Spec, corev1.TaintNodeNotReady)
	addDefaultToleration(&pod.Spec, corev1.TaintNodeUnreachable)
	if pod.Status.Phase == "" {
		pod.Status.Phase = corev1.PodPending
	}
	defaultTo(&pod.Spec.Priority, int32(0))
}

func addDefaultToleration(spec *corev1.PodSpec, key string) {
	for _, t := range spec.Tolerations {
		if (t.Key == key || (t.Key == "" && t.Operator == corev1.TolerationOpExists)) &&
			(t.Effect == "" || t.Effect == corev1.TaintEffectNoExecute) {
			return
		}
	}
	spec.Tolerations = append(spec.Tolerations, corev1.Toleration{
		Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute,
		TolerationSeconds: ptr(DefaultTolerationSeconds),
	})
}

func defaultReplicas(p **int32) {
	if *p == nil {
		*p = ptr(int32(1))
	}
}

func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	defaultReplicas(&rs.Spec.Replicas)
	defaultPodSpec(&rs.Spec.Template.Spec)
}

func defaultReplicationController(rc *corev1.ReplicationController) {
	// An RC without a selector selects its template's labels; without labels of
	// its own it takes them from the template too.
	if rc.Spec.Template != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = labels.Set(rc.Spec.Template.Labels)
		}
		if len(rc.Labels) == 0 {
			rc.Labels = rc.Spec.Template.Labels
		}
		defaultPodSpec(&rc.Spec.Template.Spec)
	}
	defaultReplicas(&rc.Spec.Replicas)
}

func defaultDeployment(d *appsv1.Deployment) {
	defaultReplicas(&d.Spec.Replicas)
	defaultPodSpec(&d.Spec.Template.Spec)
	if d.Spec.Strategy.Type == "" {
		d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if d.Spec.Strategy.RollingUpdate == nil {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := d.Spec.Strategy.RollingUpdate
		defaultTo(&ru.MaxUnavailable, intstr.FromString("25%"))
		defaultTo(&ru.MaxSurge, intstr.FromString("25%"))
	}
	defaultTo(&d.Spec.RevisionHistoryLimit, int32(10))
	defaultTo(&d.Spec.ProgressDeadlineSeconds, int32(600))
}

func defaultStatefulSet(s *appsv1.StatefulSet) {
	defaultReplicas(&s.Spec.Replicas)
	defaultPodSpec(&s.Spec.Template.Spec)
	if s.Spec.PodManagementPolicy == "" {
		s.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.Spec.UpdateStrategy.Type == "" {
		s.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.Spec.UpdateStrategy.RollingUpdate == nil {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		defaultTo(&s.Spec.UpdateStrategy.RollingUpdate.Partition, int32(0))
	}
	defaultTo(&s.Spec.RevisionHistoryLimit, int32(10))
	if s.Spec.PersistentVolumeClaimRetentionPolicy == nil {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		}
	}
}

func defaultDaemonSet(ds *appsv1.DaemonSet) {
	defaultPodSpec(&ds.Spec.Template.Spec)
	if ds.Spec.UpdateStrategy.Type == "" {
		ds.Spec.UpdateStrategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if ds.Spec.UpdateStrategy.RollingUpdate == nil {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		ru := ds.Spec.UpdateStrategy.RollingUpdate
		defaultTo(&ru.MaxUnavailable, intstr.FromInt32(1))
		defaultTo(&ru.MaxSurge, intstr.FromInt32(0))
	}
	defaultTo(&ds.Spec.RevisionHistoryLimit, int32(10))
}

func defaultHPA(h *autoscalingv2.HorizontalPodAutoscaler) {
	defaultTo(&h.Spec.MinReplicas, int32(1))
	if len(h.Spec.Metrics) == 0 {
		h.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(80))}},
		}}
	}
}

func ptr[T any](v T) *T { return &v }

// defaultTo sets an optional field that is unset to v.
func defaultTo[T any](field **T, v T) {
	if *field == nil {
		*field = &v
	}
}
