package cluster

import (
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"k8s.io/apimachinery/pkg/watch"
)

// onEventFunc is how an actor takes a change of a cached object: typ is
// Added, Modified or Deleted, key is "namespace/name" ("name" for nodes), old
// is the previous cached object (nil for Added; for Deleted, obj itself).
type onEventFunc func(typ watch.EventType, key string, obj, old apiserver.Object)

// actorHandler adapts an actor's callback to an informer's handler. An object
// replaced under the same name while the actor was not watching (the list
// reports it as an update to another uid) reaches the actor as a deletion and
// an addition: upstream's scheduler (updatePodInCache) and kubelet (pods keyed
// by uid) take it that way. onSync, if not nil, runs after every (re)list.
func actorHandler(fn onEventFunc, onSync func()) controller.Handler {
	return controller.Handler{
		OnChange: func(typ watch.EventType, key string, obj, old apiserver.Object) {
			if typ == watch.Modified && old.GetUID() != obj.GetUID() {
				fn(watch.Deleted, key, old, old)
				fn(watch.Added, key, obj, nil)
				return
			}
			fn(typ, key, obj, old)
		},
		OnSync: onSync,
	}
}

// actorInformer is the informer of kind in the actor's context, with fn (and
// onSync) as its handler. Actors keep indexes of their own (podIndex), so the
// informer keeps none: with several informers of every pod in the cluster,
// the built-in indexes would cost more than all the actors' work.
func actorInformer(ctx *controller.Context, kind apiserver.Kind, fn onEventFunc, onSync func()) *controller.Informer {
	inf := ctx.Informer(kind)
	for _, idx := range []string{controller.IndexNamespace, controller.IndexOwnerUID, controller.IndexLabel} {
		inf.RemoveIndex(idx)
	}
	inf.AddHandler(actorHandler(fn, onSync))
	return inf
}

// nodesAndPods is what the node lifecycle controller, taint eviction and pod
// GC each run on: a Context of their own, informers on nodes and pods, and
// the pods indexed by node.
type nodesAndPods struct {
	ctx    *controller.Context
	nodes  *controller.Informer
	pods   *controller.Informer
	podIdx *podIndex
}

func newNodesAndPods(c *Cluster, client string, onNode, onPod onEventFunc, onSync func()) nodesAndPods {
	a := nodesAndPods{ctx: controller.NewContext(client, c.API)}
	a.nodes = actorInformer(a.ctx, apiserver.Nodes, onNode, onSync)
	a.pods = actorInformer(a.ctx, apiserver.Pods, onPod, onSync)
	a.podIdx = newPodIndex(a.pods)
	return a
}

func (a *nodesAndPods) start() {
	a.nodes.Start()
	a.pods.Start()
}
