package host

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// NewManager is manager.New (ctrl.NewManager) for a hosted Main: config is
// the *rest.Config Main was given, and the manager is set up to run under
// the host. What hosting needs is forced, whatever opts say:
//
//   - No sockets: the metrics server, health probes and pprof are off
//     (bind address "0"), and a webhook server fails to start (webhooks are
//     not served). Leader election is off: one instance runs, and a crash
//     fault restarts it.
//   - No discovery: a static RESTMapper of the kinds the simulated API server
//     serves (and core/v1 and events.k8s.io/v1 Events, which it accepts and
//     drops) replaces Options.MapperProvider.
//   - JSON: requests are sent and answered as JSON (controller-runtime asks
//     for protobuf for built-in types when the config names no content type).
//   - Caches list in key order: their informers are NewSharedIndexInformer
//     (Cache.Options.NewInformer). controller-runtime draws every informer's
//     resync period from the global math/rand (SyncPeriod × [0.9, 1.1)); it
//     is snapped back to the configured SyncPeriod it was drawn from.
//   - Controllers (the defaults of Options.Controller) skip name validation
//     (every run of a process builds controllers of the same names), use
//     client-go's FIFO rate-limited workqueue instead of controller-runtime's
//     priority queue (which hands out items from goroutines of its own: the
//     order of a burst of adds of mixed priorities would depend on the
//     scheduler), do not warm up (a warm-up is for leader election, which is
//     off), and recover a reconciler's panic: it is reported as the run's
//     failure, with its stack.
//   - Runnables' contexts (Options.BaseContext, or context.Background) carry
//     the host, so that a panic in a controller's goroutines finds it.
//   - A manager stopped while its caches sync (a crash fault during
//     startup) stops, where controller-runtime v0.24 would spin forever
//     (see hostedManager).
//   - controller-runtime's global logger (ctrl.Log) discards, unless the
//     program set one (ctrl.SetLogger) before its first NewManager: an unset
//     one prints a warning with a stack once the clock, the bubble's, says
//     30 seconds passed since the process started.
//
// Everything else of opts is the caller's: Scheme, Cache (but NewInformer),
// Client, NewCache and NewClient (which get these options), Logger,
// Controller's other fields (concurrency, CacheSyncTimeout,
// ReconciliationTimeout, all in virtual time), GracefulShutdownTimeout. A
// controller's own controller.Options (builder.WithOptions) override the
// manager's defaults: a controller that asks for the priority queue or a
// warm-up itself gets it.
//
// One order is the scheduler's: a controller starts its sources on
// goroutines of their own, so two sources on one kind (Owns(&Pod{}) and a
// Watches(&Pod{}, …)) register their handlers on the shared informer in
// either order, and for one event their adds reach the queue in that order.
// It shows only when one event makes them enqueue different objects.
//
// Events are recorded the usual way (GetEventRecorder, GetEventRecorderFor);
// the host accepts and drops them, answering at once, so recording them
// never reaches the World. Not served: metadata-only watches
// (builder.OnlyMetadata: the host answers full objects), server-side apply,
// deletecollection, kinds outside apiserver.Kinds.
func NewManager(config *rest.Config, opts manager.Options) (manager.Manager, error) {
	h, ok := config.Transport.(*Host)
	if !ok {
		return nil, errors.New("host: NewManager needs the *rest.Config a hosted Main is given (its Transport is the host)")
	}
	quietGlobalLogger()
	config = rest.CopyConfig(config)
	config.ContentType, config.AcceptContentTypes = "application/json", "application/json"

	opts.Metrics = metricsserver.Options{BindAddress: "0"}
	opts.HealthProbeBindAddress = "0"
	opts.PprofBindAddress = "0"
	opts.WebhookServer = noWebhooks{webhook.NewServer(webhook.Options{})}
	opts.LeaderElection = false
	opts.LeaderElectionResourceLockInterface = nil
	opts.MapperProvider = func(*rest.Config, *http.Client) (meta.RESTMapper, error) { return RESTMapper(), nil }

	resyncs := syncPeriods(opts.Cache)
	opts.Cache.NewInformer = func(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
		return NewSharedIndexInformer(lw, obj, resyncs.snap(resync), indexers)
	}

	opts.Controller.SkipNameValidation = ptr.To(true)
	opts.Controller.UsePriorityQueue = ptr.To(false)
	opts.Controller.EnableWarmup = ptr.To(false)
	opts.Controller.RecoverPanic = ptr.To(true)

	base := opts.BaseContext
	if base == nil {
		base = context.Background
	}
	opts.BaseContext = func() context.Context { return context.WithValue(base(), hostKey{}, h) }

	stopped, stop := context.WithCancel(context.Background())
	newCache := opts.NewCache
	if newCache == nil {
		newCache = cache.New
	}
	opts.NewCache = func(config *rest.Config, o cache.Options) (cache.Cache, error) {
		c, err := newCache(config, o)
		if err != nil {
			return nil, err
		}
		return stoppableCache{c, stopped}, nil
	}
	mgr, err := manager.New(config, opts)
	if err != nil {
		stop()
		return nil, err
	}
	return &hostedManager{mgr, stop}, nil
}

// hostedManager works around a bug of controller-runtime v0.24
// (kubernetes-sigs/controller-runtime#3440): Start's context done while it
// waits for the caches to sync (a crash fault, or the end of a run, during
// startup) makes manager.Start spin forever on the closed Done channel,
// never stopping its runnables, and in a bubble nothing else then runs.
// When Start's context is done, the cache says it has synced
// (stoppableCache), so that startup ends and the manager stops.
type hostedManager struct {
	manager.Manager
	stop context.CancelFunc
}

func (m *hostedManager) Start(ctx context.Context) error {
	defer m.stop()
	context.AfterFunc(ctx, m.stop)
	return m.Manager.Start(ctx)
}

// stoppableCache is the manager's cache: WaitForCacheSync also returns
// (true) once the manager's Start context is done. Nothing it then reads
// matters: the controller is stopped, and its requests fail.
type stoppableCache struct {
	cache.Cache
	stopped context.Context
}

func (c stoppableCache) WaitForCacheSync(ctx context.Context) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.stopped, cancel)()
	return c.Cache.WaitForCacheSync(ctx) || c.stopped.Err() != nil
}

// RESTMapper maps the kinds the simulated API server serves (apiserver.Kinds)
// to their resources, and core/v1 and events.k8s.io/v1 Events, which the host
// accepts and drops. It never asks the server (no discovery).
func RESTMapper() meta.RESTMapper {
	type mapping struct {
		gvk        schema.GroupVersionKind
		plural     string
		namespaced bool
	}
	var ms []mapping
	for _, k := range apiserver.Kinds {
		ms = append(ms, mapping{apiserver.GroupVersionOf(k).WithKind(string(k)), apiserver.Resource(k), apiserver.Namespaced(k)})
	}
	ms = append(ms,
		mapping{schema.GroupVersionKind{Version: "v1", Kind: "Event"}, "events", true},
		mapping{schema.GroupVersionKind{Group: "events.k8s.io", Version: "v1", Kind: "Event"}, "events", true})
	var gvs []schema.GroupVersion
	for _, m := range ms {
		if !slices.Contains(gvs, m.gvk.GroupVersion()) {
			gvs = append(gvs, m.gvk.GroupVersion())
		}
	}
	mapper := meta.NewDefaultRESTMapper(gvs)
	for _, m := range ms {
		scope := meta.RESTScopeRoot
		if m.namespaced {
			scope = meta.RESTScopeNamespace
		}
		gv := m.gvk.GroupVersion()
		mapper.AddSpecific(m.gvk, gv.WithResource(m.plural), gv.WithResource(strings.ToLower(m.gvk.Kind)), scope)
	}
	return mapper
}

// noWebhooks is the manager's webhook server: webhooks register as usual,
// and starting it (it starts once one is registered) fails, since nothing
// would reach a socket it listened on.
type noWebhooks struct{ webhook.Server }

func (noWebhooks) Start(context.Context) error {
	return errors.New("host: webhooks are not served under the simulation")
}

// resyncPeriods are the SyncPeriods a cache's options configure, ascending,
// merged into groups: a period drawn from a group's members (period ×
// [0.9, 1.1)) snaps to the group's smallest. Periods close enough that one
// draw could come from either are one group, so a draw never depends on
// which of them it came from.
type resyncPeriods []struct{ lo, hi time.Duration }

// syncPeriods collects every SyncPeriod of o (default 10 hours, as
// controller-runtime's).
func syncPeriods(o cache.Options) resyncPeriods {
	all := []time.Duration{ptr.Deref(o.SyncPeriod, 10*time.Hour)}
	add := func(p *time.Duration) {
		if p != nil {
			all = append(all, *p)
		}
	}
	for _, c := range o.DefaultNamespaces {
		add(c.SyncPeriod)
	}
	for _, b := range o.ByObject {
		add(b.SyncPeriod)
		for _, c := range b.Namespaces {
			add(c.SyncPeriod)
		}
	}
	slices.Sort(all)
	var groups resyncPeriods
	for _, p := range slices.Compact(all) {
		if p <= 0 {
			continue
		}
		if n := len(groups); n > 0 && float64(p)*0.9 <= float64(groups[n-1].hi)*1.1 {
			groups[n-1].hi = p
			continue
		}
		groups = append(groups, struct{ lo, hi time.Duration }{p, p})
	}
	return groups
}

func (g resyncPeriods) snap(d time.Duration) time.Duration {
	if d <= 0 || len(g) == 0 {
		return d
	}
	for _, x := range g {
		if float64(d) < float64(x.hi)*1.1 {
			return x.lo
		}
	}
	return g[len(g)-1].lo
}

var quietOnce sync.Once

// quietGlobalLogger gives controller-runtime's global logger a sink that
// discards, once per process, unless the program set one first.
func quietGlobalLogger() {
	quietOnce.Do(func() {
		if !globalLoggerSet() {
			ctrllog.SetLogger(logr.New(ctrllog.NullLogSink{}))
		}
	})
}

// globalLoggerSet says whether ctrl.SetLogger was called, without using the
// logger (every use checks the 30-second timer): the root sink drops its
// promise when it is fulfilled. If the root sink is not what this expects
// (another controller-runtime), it says set, and leaves the logger alone.
func globalLoggerSet() bool {
	v := reflect.ValueOf(ctrllog.Log.GetSink())
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return true
	}
	f := v.Elem().FieldByName("promise")
	return !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil()
}
