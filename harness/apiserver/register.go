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
		newObj:    func() Object { return &corev1.Pod{} },
		spec:      func(o Object) any { return &o.(*corev1.Pod).Spec },
		setStatus: func(d, s Object) { d.(*corev1.Pod).Status = s.(*corev1.Pod).Status },
		defaults:  func(o Object) { defaultPod(o.(*corev1.Pod)) },
		validate:  validatePod,
	})
	register(&kindInfo{
		kind: Nodes, gv: coreV1, plural: "nodes",
		newObj:    func() Object { return &corev1.Node{} },
		spec:      func(o Object) any { return &o.(*corev1.Node).Spec },
		setStatus: func(d, s Object) { d.(*corev1.Node).Status = s.(*corev1.Node).Status },
		validate:  validateMetaOnly,
	})
	register(&kindInfo{
		kind: ReplicaSets, gv: appsV1, plural: "replicasets", namespaced: true,
		newObj:    func() Object { return &appsv1.ReplicaSet{} },
		spec:      func(o Object) any { return &o.(*appsv1.ReplicaSet).Spec },
		setStatus: func(d, s Object) { d.(*appsv1.ReplicaSet).Status = s.(*appsv1.ReplicaSet).Status },
		defaults:  func(o Object) { defaultReplicaSet(o.(*appsv1.ReplicaSet)) },
		validate:  validateReplicaSet,
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
		newObj:    func() Object { return &corev1.ReplicationController{} },
		spec:      func(o Object) any { return &o.(*corev1.ReplicationController).Spec },
		setStatus: func(d, s Object) { d.(*corev1.ReplicationController).Status = s.(*corev1.ReplicationController).Status },
		defaults:  func(o Object) { defaultReplicationController(o.(*corev1.ReplicationController)) },
		validate:  validateReplicationController,
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
		newObj:    func() Object { return &appsv1.Deployment{} },
		spec:      func(o Object) any { return &o.(*appsv1.Deployment).Spec },
		setStatus: func(d, s Object) { d.(*appsv1.Deployment).Status = s.(*appsv1.Deployment).Status },
		defaults:  func(o Object) { defaultDeployment(o.(*appsv1.Deployment)) },
		validate:  validateDeployment,
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
		newObj:    func() Object { return &appsv1.StatefulSet{} },
		spec:      func(o Object) any { return &o.(*appsv1.StatefulSet).Spec },
		setStatus: func(d, s Object) { d.(*appsv1.StatefulSet).Status = s.(*appsv1.StatefulSet).Status },
		defaults:  func(o Object) { defaultStatefulSet(o.(*appsv1.StatefulSet)) },
		validate:  validateStatefulSet,
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
		newObj:    func() Object { return &appsv1.DaemonSet{} },
		spec:      func(o Object) any { return &o.(*appsv1.DaemonSet).Spec },
		setStatus: func(d, s Object) { d.(*appsv1.DaemonSet).Status = s.(*appsv1.DaemonSet).Status },
		defaults:  func(o Object) { defaultDaemonSet(o.(*appsv1.DaemonSet)) },
		validate:  validateDaemonSet,
	})
	register(&kindInfo{
		kind: PersistentVolumeClaims, gv: coreV1, plural: "persistentvolumeclaims", namespaced: true,
		newObj:    func() Object { return &corev1.PersistentVolumeClaim{} },
		spec:      func(o Object) any { return &o.(*corev1.PersistentVolumeClaim).Spec },
		setStatus: func(d, s Object) { d.(*corev1.PersistentVolumeClaim).Status = s.(*corev1.PersistentVolumeClaim).Status },
		validate:  validateMetaOnly,
	})
	register(&kindInfo{
		kind: Services, gv: coreV1, plural: "services", namespaced: true,
		newObj:    func() Object { return &corev1.Service{} },
		spec:      func(o Object) any { return &o.(*corev1.Service).Spec },
		setStatus: func(d, s Object) { d.(*corev1.Service).Status = s.(*corev1.Service).Status },
		validate:  validateService,
	})
	register(&kindInfo{
		kind: HorizontalPodAutoscalers, gv: hpaV2, plural: "horizontalpodautoscalers", namespaced: true,
		newObj: func() Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
		spec:   func(o Object) any { return &o.(*autoscalingv2.HorizontalPodAutoscaler).Spec },
		setStatus: func(d, s Object) {
			d.(*autoscalingv2.HorizontalPodAutoscaler).Status = s.(*autoscalingv2.HorizontalPodAutoscaler).Status
		},
		defaults: func(o Object) { defaultHPA(o.(*autoscalingv2.HorizontalPodAutoscaler)) },
		validate: validateHPA,
	})
	register(&kindInfo{
		kind: ControllerRevisions, gv: appsV1, plural: "controllerrevisions", namespaced: true,
		newObj:   func() Object { return &appsv1.ControllerRevision{} },
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
