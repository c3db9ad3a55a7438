package apiserver

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The served kinds, each with its defaulting, validation, generation rule and
// subresources.
func init() {
	register(typedKind(kindInfo{
		kind: Pods, gv: coreV1, plural: "pods", namespaced: true,
		copyStatusFn: func(dst, src Object) {
			src.(*corev1.Pod).Status.DeepCopyInto(&dst.(*corev1.Pod).Status)
		},
		validate: validatePod,
	}, func(o *corev1.Pod) any { return &o.Spec }, func(o *corev1.Pod) any { return &o.Status }, defaultPod))
	register(typedKind(kindInfo{
		kind: Nodes, gv: coreV1, plural: "nodes",
		copyStatusFn: func(dst, src Object) {
			src.(*corev1.Node).Status.DeepCopyInto(&dst.(*corev1.Node).Status)
		},
		validate: validateMetaOnly,
	}, func(o *corev1.Node) any { return &o.Spec }, func(o *corev1.Node) any { return &o.Status }, nil))
	register(typedKind(kindInfo{
		kind: ReplicaSets, gv: appsV1, plural: "replicasets", namespaced: true,
		validate: validateReplicaSet,
		scale: &scaleInfo{
			get: func(o Object) (int32, int32, string) {
				rs := o.(*appsv1.ReplicaSet)
				return deref(rs.Spec.Replicas), rs.Status.Replicas, selectorString(rs.Spec.Selector)
			},
			setSpec: func(o Object, n int32) { o.(*appsv1.ReplicaSet).Spec.Replicas = &n },
		},
	}, func(o *appsv1.ReplicaSet) any { return &o.Spec }, func(o *appsv1.ReplicaSet) any { return &o.Status }, defaultReplicaSet))
	register(typedKind(kindInfo{
		kind: ReplicationControllers, gv: coreV1, plural: "replicationcontrollers", namespaced: true,
		validate: validateReplicationController,
		scale: &scaleInfo{
			get: func(o Object) (int32, int32, string) {
				rc := o.(*corev1.ReplicationController)
				return deref(rc.Spec.Replicas), rc.Status.Replicas, mapSelectorString(rc.Spec.Selector)
			},
			setSpec: func(o Object, n int32) { o.(*corev1.ReplicationController).Spec.Replicas = &n },
		},
	}, func(o *corev1.ReplicationController) any { return &o.Spec }, func(o *corev1.ReplicationController) any { return &o.Status }, defaultReplicationController))
	register(typedKind(kindInfo{
		kind: Deployments, gv: appsV1, plural: "deployments", namespaced: true,
		validate: validateDeployment,
		scale: &scaleInfo{
			get: func(o Object) (int32, int32, string) {
				d := o.(*appsv1.Deployment)
				return deref(d.Spec.Replicas), d.Status.Replicas, selectorString(d.Spec.Selector)
			},
			setSpec: func(o Object, n int32) { o.(*appsv1.Deployment).Spec.Replicas = &n },
		},
	}, func(o *appsv1.Deployment) any { return &o.Spec }, func(o *appsv1.Deployment) any { return &o.Status }, defaultDeployment))
	register(typedKind(kindInfo{
		kind: StatefulSets, gv: appsV1, plural: "statefulsets", namespaced: true,
		validate: validateStatefulSet,
		scale: &scaleInfo{
			get: func(o Object) (int32, int32, string) {
				s := o.(*appsv1.StatefulSet)
				return deref(s.Spec.Replicas), s.Status.Replicas, selectorString(s.Spec.Selector)
			},
			setSpec: func(o Object, n int32) { o.(*appsv1.StatefulSet).Spec.Replicas = &n },
		},
	}, func(o *appsv1.StatefulSet) any { return &o.Spec }, func(o *appsv1.StatefulSet) any { return &o.Status }, defaultStatefulSet))
	register(typedKind(kindInfo{
		kind: DaemonSets, gv: appsV1, plural: "daemonsets", namespaced: true,
		validate: validateDaemonSet,
	}, func(o *appsv1.DaemonSet) any { return &o.Spec }, func(o *appsv1.DaemonSet) any { return &o.Status }, defaultDaemonSet))
	register(typedKind(kindInfo{
		kind: PersistentVolumeClaims, gv: coreV1, plural: "persistentvolumeclaims", namespaced: true,
		validate: validateMetaOnly,
	}, func(o *corev1.PersistentVolumeClaim) any { return &o.Spec }, func(o *corev1.PersistentVolumeClaim) any { return &o.Status }, nil))
	register(typedKind(kindInfo{
		kind: Services, gv: coreV1, plural: "services", namespaced: true,
		validate: validateService,
	}, func(o *corev1.Service) any { return &o.Spec }, func(o *corev1.Service) any { return &o.Status }, nil))
	register(typedKind(kindInfo{
		kind: HorizontalPodAutoscalers, gv: hpaV2, plural: "horizontalpodautoscalers", namespaced: true,
		validate: validateHPA,
	}, func(o *autoscalingv2.HorizontalPodAutoscaler) any { return &o.Spec }, func(o *autoscalingv2.HorizontalPodAutoscaler) any { return &o.Status }, defaultHPA))
	register(typedKind[appsv1.ControllerRevision](kindInfo{
		kind: ControllerRevisions, gv: appsV1, plural: "controllerrevisions", namespaced: true,
		validate: validateMetaOnly,
	}, nil, nil, nil))
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func selectorString(s *metav1.LabelSelector) string {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return ""
	}
	return sel.String()
}

// shallow copies the top-level struct of an object: enough for the server's
// own writes, which replace fields rather than mutate shared slices or maps.
func shallow[T any](o Object) Object {
	c := *any(o).(*T)
	return any(&c).(Object)
}

// typedKind completes k from the Go type T of its objects: newObj and
// shallow, and spec, status and defaults (nil where the kind has none)
// written on *T rather than on Object.
func typedKind[T any, P interface {
	*T
	Object
}](k kindInfo, spec, status func(P) any, defaults func(P)) *kindInfo {
	k.newObj = func() Object { return P(new(T)) }
	k.shallow = shallow[T]
	if spec != nil {
		k.spec = func(o Object) any { return spec(o.(P)) }
	}
	if status != nil {
		k.status = func(o Object) any { return status(o.(P)) }
	}
	if defaults != nil {
		k.defaults = func(o Object) { defaults(o.(P)) }
	}
	return &k
}
