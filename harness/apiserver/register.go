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
	register(&kindInfo{
		kind: Pods, gv: coreV1, plural: "pods", namespaced: true,
		newObj:  func() Object { return &corev1.Pod{} },
		spec:    func(o Object) any { return &o.(*corev1.Pod).Spec },
		status:  func(o Object) any { return &o.(*corev1.Pod).Status },
		shallow: shallow[corev1.Pod],
		copyStatusFn: func(dst, src Object) {
			src.(*corev1.Pod).Status.DeepCopyInto(&dst.(*corev1.Pod).Status)
		},
		defaults: func(o Object) { defaultPod(o.(*corev1.Pod)) },
		validate: validatePod,
	})
	register(&kindInfo{
		kind: Nodes, gv: coreV1, plural: "nodes",
		newObj:  func() Object { return &corev1.Node{} },
		spec:    func(o Object) any { return &o.(*corev1.Node).Spec },
		status:  func(o Object) any { return &o.(*corev1.Node).Status },
		shallow: shallow[corev1.Node],
		copyStatusFn: func(dst, src Object) {
			src.(*corev1.Node).Status.DeepCopyInto(&dst.(*corev1.Node).Status)
		},
		validate: validateMetaOnly,
	})
	register(&kindInfo{
		kind: ReplicaSets, gv: appsV1, plural: "replicasets", namespaced: true,
		newObj:   func() Object { return &appsv1.ReplicaSet{} },
		spec:     func(o Object) any { return &o.(*appsv1.ReplicaSet).Spec },
		status:   func(o Object) any { return &o.(*appsv1.ReplicaSet).Status },
		shallow:  shallow[appsv1.ReplicaSet],
		defaults: func(o Object) { defaultReplicaSet(o.(*appsv1.ReplicaSet)) },
		validate: validateReplicaSet,
		scale: &scaleInfo{
			get: func(o Object) (int32, int32, string) {
				rs := o.(*appsv1.ReplicaSet)
				return deref(rs.Spec.Replicas), rs.Status.Replicas, selectorString(rs.Spec.Selector)
			},
			setSpec: func(o Object, n int32) { o.(*appsv1.ReplicaSet).Spec.Replicas = &n },
		},
	})
	register(&kindInfo{
		kind: ReplicationControllers, gv: coreV1, plural: "replicationcontrollers", namespaced: true,
		newObj:   func() Object { return &corev1.ReplicationController{} },
		spec:     func(o Object) any { return &o.(*corev1.ReplicationController).Spec },
		status:   func(o Object) any { return &o.(*corev1.ReplicationController).Status },
		shallow:  shallow[corev1.ReplicationController],
		defaults: func(o Object) { defaultReplicationController(o.(*corev1.ReplicationController)) },
		validate: validateReplicationController,
		scale: &scaleInfo{
			get: func(o Object) (int32, int32, string) {
				rc := o.(*corev1.ReplicationController)
				return deref(rc.Spec.Replicas), rc.Status.Replicas, mapSelectorString(rc.Spec.Selector)
			},
			setSpec: func(o Object, n int32) { o.(*corev1.ReplicationController).Spec.Replicas = &n },
		},
	})
	register(&kindInfo{
		kind: Deployments, gv: appsV1, plural: "deployments", namespaced: true,
		newObj:   func() Object { return &appsv1.Deployment{} },
		spec:     func(o Object) any { return &o.(*appsv1.Deployment).Spec },
		status:   func(o Object) any { return &o.(*appsv1.Deployment).Status },
		shallow:  shallow[appsv1.Deployment],
		defaults: func(o Object) { defaultDeployment(o.(*appsv1.Deployment)) },
		validate: validateDeployment,
		scale: &scaleInfo{
			get: func(o Object) (int32, int32, string) {
				d := o.(*appsv1.Deployment)
				return deref(d.Spec.Replicas), d.Status.Replicas, selectorString(d.Spec.Selector)
			},
			setSpec: func(o Object, n int32) { o.(*appsv1.Deployment).Spec.Replicas = &n },
		},
	})
	register(&kindInfo{
		kind: StatefulSets, gv: appsV1, plural: "statefulsets", namespaced: true,
		newObj:   func() Object { return &appsv1.StatefulSet{} },
		spec:     func(o Object) any { return &o.(*appsv1.StatefulSet).Spec },
		status:   func(o Object) any { return &o.(*appsv1.StatefulSet).Status },
		shallow:  shallow[appsv1.StatefulSet],
		defaults: func(o Object) { defaultStatefulSet(o.(*appsv1.StatefulSet)) },
		validate: validateStatefulSet,
		scale: &scaleInfo{
			get: func(o Object) (int32, int32, string) {
				s := o.(*appsv1.StatefulSet)
				return deref(s.Spec.Replicas), s.Status.Replicas, selectorString(s.Spec.Selector)
			},
			setSpec: func(o Object, n int32) { o.(*appsv1.StatefulSet).Spec.Replicas = &n },
		},
	})
	register(&kindInfo{
		kind: DaemonSets, gv: appsV1, plural: "daemonsets", namespaced: true,
		newObj:   func() Object { return &appsv1.DaemonSet{} },
		spec:     func(o Object) any { return &o.(*appsv1.DaemonSet).Spec },
		status:   func(o Object) any { return &o.(*appsv1.DaemonSet).Status },
		shallow:  shallow[appsv1.DaemonSet],
		defaults: func(o Object) { defaultDaemonSet(o.(*appsv1.DaemonSet)) },
		validate: validateDaemonSet,
	})
	register(&kindInfo{
		kind: PersistentVolumeClaims, gv: coreV1, plural: "persistentvolumeclaims", namespaced: true,
		newObj:   func() Object { return &corev1.PersistentVolumeClaim{} },
		spec:     func(o Object) any { return &o.(*corev1.PersistentVolumeClaim).Spec },
		status:   func(o Object) any { return &o.(*corev1.PersistentVolumeClaim).Status },
		shallow:  shallow[corev1.PersistentVolumeClaim],
		validate: validateMetaOnly,
	})
	register(&kindInfo{
		kind: Services, gv: coreV1, plural: "services", namespaced: true,
		newObj:   func() Object { return &corev1.Service{} },
		spec:     func(o Object) any { return &o.(*corev1.Service).Spec },
		status:   func(o Object) any { return &o.(*corev1.Service).Status },
		shallow:  shallow[corev1.Service],
		validate: validateService,
	})
	register(&kindInfo{
		kind: HorizontalPodAutoscalers, gv: hpaV2, plural: "horizontalpodautoscalers", namespaced: true,
		newObj:   func() Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
		spec:     func(o Object) any { return &o.(*autoscalingv2.HorizontalPodAutoscaler).Spec },
		status:   func(o Object) any { return &o.(*autoscalingv2.HorizontalPodAutoscaler).Status },
		shallow:  shallow[autoscalingv2.HorizontalPodAutoscaler],
		defaults: func(o Object) { defaultHPA(o.(*autoscalingv2.HorizontalPodAutoscaler)) },
		validate: validateHPA,
	})
	register(&kindInfo{
		kind: ControllerRevisions, gv: appsV1, plural: "controllerrevisions", namespaced: true,
		newObj:   func() Object { return &appsv1.ControllerRevision{} },
		shallow:  shallow[appsv1.ControllerRevision],
		validate: validateMetaOnly,
	})
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
