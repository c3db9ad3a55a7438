// Package kcm runs upstream's own workload controllers — the code of
// kube-controller-manager, k8s.io/kubernetes v1.36.3, unmodified — under
// ctrlsim, through package host: the ReplicaSet, ReplicationController,
// Deployment, StatefulSet and DaemonSet controllers, each built with its
// upstream constructor and run with its upstream Run, on client-go clients
// whose transport is the simulated API server, with informers that list in
// key order, in virtual time.
//
// It is a module of its own so that the main module never depends on
// k8s.io/kubernetes. Build a ctrlsim binary with these strategies with
// `make build-kcm` (bin/ctrlsim-kcm), or use Strategies from a module of
// your own.
//
// The strategies:
//
//   - kcm: every workload kind by upstream's code (the HPA stays the model:
//     the catalog's rs-hpa names its target without an apiVersion and its
//     pods request no CPU, and upstream's HPA then never scales, where the
//     model knowingly resolves the group and assumes a LimitRange default);
//   - kcm-replicaset, kcm-replicationcontroller, kcm-deployment,
//     kcm-statefulset, kcm-daemonset, kcm-hpa: the "upstream" models with that one
//     kind replaced by upstream's code, under the model's controller name,
//     so that a run compares request by request with the model's (the
//     differential tests).
package kcm

import (
	"context"
	"flag"
	"fmt"
	"io"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/scale"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/podautoscaler"
	"k8s.io/kubernetes/pkg/controller/podautoscaler/metrics"
	resourceclient "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"
	"slices"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/host"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/kubernetes/pkg/controller/daemon"
	"k8s.io/kubernetes/pkg/controller/deployment"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	"k8s.io/kubernetes/pkg/controller/replication"
	"k8s.io/kubernetes/pkg/controller/statefulset"
)

// Resync is the informers' resync period. kube-controller-manager draws one
// between 12 and 24 hours (--min-resync-period) from the global math/rand;
// a run fixes it at the lower bound.
const Resync = 12 * time.Hour

// Controller is one of upstream's controllers: the kind it manages and how
// kube-controller-manager starts it (with its default worker count).
type Controller struct {
	Kind apiserver.Kind
	Name string // its kube-controller-manager name
	Main host.Main
}

// Controllers are the upstream controllers this package hosts.
var Controllers = []Controller{
	{apiserver.ReplicaSets, "replicaset-controller", run(5, func(ctx context.Context, f informers.SharedInformerFactory, c kubernetes.Interface) (runner, error) {
		return replicaset.NewReplicaSetController(ctx, f.Apps().V1().ReplicaSets(), f.Core().V1().Pods(), c, replicaset.BurstReplicas), nil
	})},
	{apiserver.ReplicationControllers, "replicationcontroller-controller", run(5, func(ctx context.Context, f informers.SharedInformerFactory, c kubernetes.Interface) (runner, error) {
		return replication.NewReplicationManager(ctx, f.Core().V1().Pods(), f.Core().V1().ReplicationControllers(), c, replication.BurstReplicas), nil
	})},
	{apiserver.Deployments, "deployment-controller", run(5, func(ctx context.Context, f informers.SharedInformerFactory, c kubernetes.Interface) (runner, error) {
		return deployment.NewDeploymentController(ctx, f.Apps().V1().Deployments(), f.Apps().V1().ReplicaSets(), f.Core().V1().Pods(), c)
	})},
	{apiserver.StatefulSets, "statefulset-controller", run(5, func(ctx context.Context, f informers.SharedInformerFactory, c kubernetes.Interface) (runner, error) {
		return statefulset.NewStatefulSetController(ctx, f.Core().V1().Pods(), f.Apps().V1().StatefulSets(),
			f.Core().V1().PersistentVolumeClaims(), f.Apps().V1().ControllerRevisions(), c), nil
	})},
	{apiserver.HorizontalPodAutoscalers, "horizontal-pod-autoscaler", hpa},
	{apiserver.DaemonSets, "daemonset-controller", run(2, func(ctx context.Context, f informers.SharedInformerFactory, c kubernetes.Interface) (runner, error) {
		return daemon.NewDaemonSetsController(ctx, f.Apps().V1().DaemonSets(), f.Apps().V1().ControllerRevisions(),
			f.Core().V1().Pods(), f.Core().V1().Nodes(), c, flowcontrol.NewBackOff(time.Second, 15*time.Minute))
	})},
}

// hpa is kube-controller-manager's start-up of the HorizontalPodAutoscaler
// controller with its defaults (15 s sync, 5 min downscale window, 0.1
// tolerance, 5 min CPU initialization, 30 s initial readiness delay). The
// scale client resolves every scale subresource to autoscaling/v1 Scale
// (the simulated API server serves no discovery) and the metrics client
// reads the resource metrics API the host serves; custom and external
// metrics have no source, as on a cluster without their adapters.
func hpa(ctx context.Context, config *rest.Config) error {
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	mapper := host.RESTMapper()
	scales, err := scale.NewForConfig(config, mapper, dynamic.LegacyAPIPathResolverFunc, scaleKinds{})
	if err != nil {
		return err
	}
	resources, err := resourceclient.NewForConfig(config)
	if err != nil {
		return err
	}
	factory := host.NewSharedInformerFactory(client, Resync)
	c := podautoscaler.NewHorizontalController(ctx, client.CoreV1(), scales, client.AutoscalingV2(), mapper,
		metrics.NewRESTMetricsClient(resources, nil, nil),
		factory.Autoscaling().V2().HorizontalPodAutoscalers(), factory.Core().V1().Pods(),
		15*time.Second, 5*time.Minute, 0.1, 5*time.Minute, 30*time.Second)
	factory.Start(ctx.Done())
	c.Run(ctx, 5)
	factory.Shutdown()
	return nil
}

// scaleKinds says every scale subresource is an autoscaling/v1 Scale, as
// the simulated API server serves them.
type scaleKinds struct{}

func (scaleKinds) ScaleForResource(schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	return autoscalingv1.SchemeGroupVersion.WithKind("Scale"), nil
}

// runner is what every upstream controller has: Run(ctx, workers).
type runner interface {
	Run(ctx context.Context, workers int)
}

// run is kube-controller-manager's start-up of one controller: clients from
// the config, a shared informer factory, the controller, the factory
// started, Run with its workers until the context ends.
func run(workers int, build func(context.Context, informers.SharedInformerFactory, kubernetes.Interface) (runner, error)) host.Main {
	return func(ctx context.Context, config *rest.Config) error {
		client, err := kubernetes.NewForConfig(config)
		if err != nil {
			return err
		}
		factory := host.NewSharedInformerFactory(client, Resync)
		c, err := build(ctx, factory, client)
		if err != nil {
			return err
		}
		factory.Start(ctx.Done())
		c.Run(ctx, workers)
		factory.Shutdown()
		return nil
	}
}

// Lookup returns the upstream controller for kind.
func Lookup(kind apiserver.Kind) (Controller, bool) {
	i := slices.IndexFunc(Controllers, func(c Controller) bool { return c.Kind == kind })
	if i < 0 {
		return Controller{}, false
	}
	return Controllers[i], true
}

// Replace returns st with the controllers of kinds run by upstream's code,
// under the names st gives them (so that requests draw the same latencies
// as st's, and runs compare request by request).
func Replace(st plugin.Strategy, kinds ...apiserver.Kind) plugin.Strategy {
	out := st
	out.Controllers = slices.Clone(st.Controllers)
	for _, kind := range kinds {
		up, ok := Lookup(kind)
		if !ok {
			panic(fmt.Sprintf("kcm: no upstream controller for %s", kind))
		}
		i := slices.IndexFunc(out.Controllers, func(c plugin.Controller) bool { return slices.Contains(c.Kinds, kind) })
		if i < 0 {
			panic(fmt.Sprintf("kcm: strategy %s has no %s controller to replace", st.Name, kind))
		}
		c := out.Controllers[i]
		out.Controllers[i] = host.Controller(c.Name, c.Kinds, up.Main)
	}
	out.WallClock = true
	return out
}

// Strategies are the strategies of this package (see the package comment).
func Strategies() []plugin.Strategy {
	up, err := models.Lookup("upstream")
	if err != nil {
		panic(err)
	}
	var kinds []apiserver.Kind
	var out []plugin.Strategy
	for _, c := range Controllers {
		if c.Kind != apiserver.HorizontalPodAutoscalers {
			kinds = append(kinds, c.Kind)
		}
		st := Replace(up, c.Kind)
		st.Name = "kcm-" + kindName(c.Kind)
		st.Summary = fmt.Sprintf("upstream's own %s controller (k8s.io/kubernetes v1.36.3, unmodified, hosted); the other kinds as the upstream models", c.Kind)
		out = append(out, st)
	}
	all := Replace(up, kinds...)
	for i, c := range all.Controllers {
		if up, ok := Lookup(c.Kinds[0]); ok && slices.Contains(kinds, up.Kind) {
			all.Controllers[i].Name = up.Name
		}
	}
	all.Name = "kcm"
	all.Summary = "kube-controller-manager's own workload controllers (k8s.io/kubernetes v1.36.3, unmodified, hosted); the HPA as the upstream model"
	return append([]plugin.Strategy{all}, out...)
}

func kindName(k apiserver.Kind) string {
	switch k {
	case apiserver.ReplicaSets:
		return "replicaset"
	case apiserver.ReplicationControllers:
		return "replicationcontroller"
	case apiserver.Deployments:
		return "deployment"
	case apiserver.StatefulSets:
		return "statefulset"
	case apiserver.DaemonSets:
		return "daemonset"
	case apiserver.HorizontalPodAutoscalers:
		return "hpa"
	}
	return string(k)
}

// Upstream's controllers also log through klog's global logger (and
// HandleError): a ctrlsim binary's output is its results, so this package
// silences klog (severities below FATAL). A program that wants the logs can
// set klog's output again after importing it.
func init() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)
}
