package apiserver

import (
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Object is what the API server stores: any k8s.io/api type with object metadata.
// Objects the server hands out (responses, watch events, informer caches) are
// shared and must not be modified: DeepCopy first, as with client-go caches.
type Object interface {
	metav1.Object
	runtime.Object
}

// Kind names a resource by its Kubernetes kind ("Pod", "ReplicaSet").
type Kind string

// The kinds the simulated API server serves.
const (
	Pods                     Kind = "Pod"
	Nodes                    Kind = "Node"
	ReplicaSets              Kind = "ReplicaSet"
	ReplicationControllers   Kind = "ReplicationController"
	Deployments              Kind = "Deployment"
	StatefulSets             Kind = "StatefulSet"
	DaemonSets               Kind = "DaemonSet"
	PersistentVolumeClaims   Kind = "PersistentVolumeClaim"
	Services                 Kind = "Service"
	HorizontalPodAutoscalers Kind = "HorizontalPodAutoscaler"
	ControllerRevisions      Kind = "ControllerRevision"
)

// Kinds lists every served kind in a fixed order (the order stores are walked in).
var Kinds = []Kind{Pods, Nodes, ReplicaSets, ReplicationControllers, Deployments, StatefulSets,
	DaemonSets, PersistentVolumeClaims, Services, HorizontalPodAutoscalers, ControllerRevisions}

// kindInfo is what the server knows about one kind: how to make, default,
// validate and compare its objects.
type kindInfo struct {
	kind       Kind
	gv         schema.GroupVersion
	plural     string
	namespaced bool
	newObj     func() Object
	spec       func(Object) any                // the part whose change bumps generation (nil: none)
	status     func(Object) any                // a pointer to the status (nil: no status)
	shallow    func(Object) Object             // a copy of the top-level struct
	defaults   func(Object)                    // defaulting, as the real server's defaulters
	validate   func(obj, old Object) fieldErrs // old is nil on create
	scale      *scaleInfo                      // the scale subresource, if served
	// copyStatusFn, if set, is copyStatus without reflection (the hot kinds).
	copyStatusFn func(dst, src Object)
}

// scaleInfo exposes a workload's replicas through the scale subresource.
type scaleInfo struct {
	get     func(Object) (spec, status int32, selector string)
	setSpec func(Object, int32)
}

var kindInfos = map[Kind]*kindInfo{}

func register(k *kindInfo) { kindInfos[k.kind] = k }

// KindOf returns the kind of a stored object's Go type.
func KindOf(obj runtime.Object) Kind {
	switch obj.(type) {
	case *corev1.Pod:
		return Pods
	case *corev1.Node:
		return Nodes
	case *appsv1.ReplicaSet:
		return ReplicaSets
	case *corev1.ReplicationController:
		return ReplicationControllers
	case *appsv1.Deployment:
		return Deployments
	case *appsv1.StatefulSet:
		return StatefulSets
	case *appsv1.DaemonSet:
		return DaemonSets
	case *corev1.PersistentVolumeClaim:
		return PersistentVolumeClaims
	case *corev1.Service:
		return Services
	case *autoscalingv2.HorizontalPodAutoscaler:
		return HorizontalPodAutoscalers
	case *appsv1.ControllerRevision:
		return ControllerRevisions
	}
	return Kind(reflect.TypeOf(obj).String())
}

// GroupVersionOf is the API group and version a kind is served at.
func GroupVersionOf(kind Kind) schema.GroupVersion {
	if k, ok := kindInfos[kind]; ok {
		return k.gv
	}
	return schema.GroupVersion{}
}

// Namespaced reports whether objects of the kind live in a namespace.
func Namespaced(kind Kind) bool {
	k, ok := kindInfos[kind]
	return ok && k.namespaced
}

// NewObject returns an empty object of the kind, or nil for a kind that is not served.
func NewObject(kind Kind) Object {
	if k, ok := kindInfos[kind]; ok {
		return k.newObj()
	}
	return nil
}

// OwnerReference is a controller reference to owner, as a controller sets it on
// the objects it creates.
func OwnerReference(owner Object) metav1.OwnerReference {
	kind := KindOf(owner)
	t := true
	return metav1.OwnerReference{
		APIVersion: GroupVersionOf(kind).String(), Kind: string(kind),
		Name: owner.GetName(), UID: owner.GetUID(), Controller: &t, BlockOwnerDeletion: &t,
	}
}

var (
	coreV1 = schema.GroupVersion{Version: "v1"}
	appsV1 = schema.GroupVersion{Group: "apps", Version: "v1"}
	hpaV2  = schema.GroupVersion{Group: "autoscaling", Version: "v2"}
)

// shareStatus makes dst's status src's (src is immutable: shared, not copied).
func (k *kindInfo) shareStatus(dst, src Object) {
	if k.status != nil {
		reflect.ValueOf(k.status(dst)).Elem().Set(reflect.ValueOf(k.status(src)).Elem())
	}
}

// copyStatus gives dst a deep copy of src's status (src belongs to a client).
func (k *kindInfo) copyStatus(dst, src Object) {
	if k.copyStatusFn != nil {
		k.copyStatusFn(dst, src)
		return
	}
	if k.status != nil {
		c := reflect.ValueOf(k.status(src)).MethodByName("DeepCopy").Call(nil)[0]
		reflect.ValueOf(k.status(dst)).Elem().Set(c.Elem())
	}
}

// Resource is the kind's resource name ("pods"), as in a REST path.
func Resource(kind Kind) string {
	if k, ok := kindInfos[kind]; ok {
		return k.plural
	}
	return ""
}

// KindFor returns the kind served at a group, version and resource, as a REST
// path names it ("apps", "v1", "replicasets").
func KindFor(gvr schema.GroupVersionResource) (Kind, bool) {
	for _, kind := range Kinds {
		if k := kindInfos[kind]; k.gv == gvr.GroupVersion() && k.plural == gvr.Resource {
			return kind, true
		}
	}
	return "", false
}

// HasScale reports whether the kind serves the scale subresource.
func HasScale(kind Kind) bool {
	k, ok := kindInfos[kind]
	return ok && k.scale != nil
}
