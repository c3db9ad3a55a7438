package ctrlsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check/podrank"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// DiffConfig is a differential sweep: the same scenarios, seeds and random
// fault plans (as a chaos sweep draws them) under two strategies, typically
// a model and upstream's own code for the same kinds.
type DiffConfig struct {
	A, B      plugin.Strategy
	Scenarios []string // none: every one both can run, heavy ones left out
	Seeds     []uint64
	// NoFaults runs the scenarios as written, without a random plan.
	NoFaults bool
	Jobs     int
	// Out, if set, gets diff.json (the DiffResult).
	Out      string
	Progress io.Writer
}

// DiffRun is one scenario and seed under both strategies. The runs agree
// when they decide alike: the same verdict, the same number of pods created
// by the strategies' controllers, and the same pods deleted by them. The two
// runs are two histories, not one state seen twice: hosted code starts later
// (client-go polls for synced caches every 100 ms), its informers' list and
// watch traffic shifts events by milliseconds, second-granular timestamps
// turn that into different Ready times, and from there the runs drift
// apart. So "alike" is read with these rules:
//
//   - Pods are named by their generateName prefix (their owner, and for a
//     Deployment's ReplicaSet the revision) and creation order, "web-#3",
//     so that random name suffixes do not count.
//   - Pods created are compared less the pods the strategies' controllers
//     had to replace (DiffSide.Lost): active pods of their owners that
//     another client deleted or that turned terminal (a fault, an eviction,
//     the pod garbage collector). Which pods a drain or a lost node takes
//     depends on where the scheduler put them.
//   - A repeated delete of the same pod, with the same options, by the
//     strategies' controllers is one decision (upstream's StatefulSet
//     controller, without expectations, deletes a terminating pod again
//     when its cache has not caught up; the server changes nothing). A
//     delete that loses a race with another client (the pod was there when
//     it was sent, gone when it arrived: 404) is still a decision.
//   - A ReplicaSet or ReplicationController chooses the pods to delete with
//     upstream's ranking (pkg/controller ActivePodsWithRanks, package
//     podrank). When the delete is sent, the API server's state is ranked
//     as the controller would rank it (DiffVictim.Rank is what the ranking
//     compares of the victim). Two such deletions are the same decision
//     when they are of the same owner and their victims look the same to
//     the ranking: which of such pods upstream deletes is not specified
//     (sort.Sort over its informer's list, a map's order in a real cluster;
//     and among pods whose Ready or creation times share a log2 bucket the
//     ranking is not even a strict weak order, see podrank.Ranking.Class).
//     Other pods are the same decision only by name.
//   - Deletions left over on both sides still pair, per owner, when each
//     took what the ranking put first in its own run (DiffVictim.First):
//     every pod the ranking puts strictly before the victim (in a class of
//     a lower podrank.Ranking.Position) was deleted in the same sync, in
//     the server's state or in one within the last watch delay (a cache a
//     few events behind). That is two runs whose states had drifted apart,
//     each deciding as upstream's ranking does. A victim the ranking puts
//     after a pod that was kept (a different phase, readiness, cost,
//     co-location or age, or the uid within a log2 bucket) pairs only with
//     one that looks the same to the ranking. podrank is upstream's Less,
//     checked pair by pair against k8s.io/kubernetes in
//     models/replicaset/upstreamdiff, so a model that ranks otherwise
//     still differs.
//
// What is left over on either side is a difference. Decisions that depend
// on timing beyond this (two instances of a controller racing in a
// split-brain, or a fault that hits different pods because the runs had
// drifted apart) still differ; the sweep cannot tell them from decisions.
type DiffRun struct {
	Scenario string   `json:"scenario"`
	Seed     uint64   `json:"seed"`
	Faults   []string `json:"faults"`
	A        DiffSide `json:"a"`
	B        DiffSide `json:"b"`
	Agree    bool     `json:"agree"`
	// Differences say how they disagree, one line each.
	Differences []string `json:"differences,omitempty"`
}

// DiffSide is what one strategy decided in a DiffRun.
type DiffSide struct {
	Verdict   string `json:"verdict"`
	Signature string `json:"signature,omitempty"`
	Created   int    `json:"created"`
	// Lost are the active pods of its controllers' owners (pods with a
	// controller that selects them) that another client deleted or that
	// turned terminal: the pods the controllers had to replace.
	Lost int `json:"lost"`
	// Deleted are the pods its controllers deleted, sorted; Victims the
	// same pods with what upstream's ranking saw of them.
	Deleted []string     `json:"deleted"`
	Victims []DiffVictim `json:"victims"`
	Digest  string       `json:"digest"`
	Replay  string       `json:"replay"`
}

// DiffVictim is one pod a strategy's controllers deleted.
type DiffVictim struct {
	// Pod is the pod's generateName prefix and creation order, "web-#3".
	Pod string `json:"pod"`
	// Rank is, for a pod a ReplicaSet or ReplicationController controls
	// (and selects), what upstream's scale-down ranking compares of it when
	// the delete was sent (podrank.View). Empty for other pods.
	Rank string `json:"rank,omitempty"`
	// Ties are (up to maxTies of) the owner's other active pods whose order
	// relative to this one the ranking left to its input order then.
	Ties []string `json:"ties,omitempty"`
	// First says the ranking put the pod first: every pod it ranks strictly
	// before this one was deleted in the same sync.
	First bool `json:"first,omitempty"`
}

// maxTies bounds DiffVictim.Ties.
const maxTies = 16

func (v DiffVictim) String() string {
	if v.Rank == "" {
		return v.Pod
	}
	return v.Pod + " (" + v.Rank + ")"
}

// DiffResult is a differential sweep's outcome.
type DiffResult struct {
	A             string    `json:"a"`
	B             string    `json:"b"`
	Runs          []DiffRun `json:"runs"`
	Disagreements int       `json:"disagreements"`
}

// Diff runs a differential sweep.
func Diff(ctx context.Context, cfg DiffConfig) (*DiffResult, error) {
	if cfg.Jobs < 1 {
		cfg.Jobs = runtime.GOMAXPROCS(0)
	}
	if len(cfg.Seeds) == 0 {
		return nil, badInput(fmt.Errorf("no seeds"))
	}
	strats := []plugin.Strategy{cfg.A, cfg.B}
	scNames, _, err := selectScenarios(cfg.Scenarios, strats, cfg.Seeds[0])
	if err != nil {
		return nil, badInput(err)
	}
	if len(scNames) == 0 {
		return nil, badInput(fmt.Errorf("no built-in scenario can run with strategies %s and %s: name scenarios", cfg.A.Name, cfg.B.Name))
	}
	type job struct {
		scenario string
		seed     uint64
	}
	var todo []job
	for _, sc := range scNames {
		for _, seed := range cfg.Seeds {
			todo = append(todo, job{sc, seed})
		}
	}
	runs := make([]DiffRun, len(todo))
	errs := make([]error, len(todo))
	forEachJob(ctx, len(todo), cfg.Jobs, func(i int) {
		runs[i], errs[i] = diffOne(cfg, todo[i].scenario, todo[i].seed)
	}, func(i, done int) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "diff: %d/%d %s seed %d: %s\n", done, len(todo), todo[i].scenario, todo[i].seed, agreeWord(runs[i].Agree))
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &DiffResult{A: cfg.A.Name, B: cfg.B.Name}
	for i, r := range runs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		res.Runs = append(res.Runs, r)
		if !r.Agree {
			res.Disagreements++
		}
	}
	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := writeFile(filepath.Join(cfg.Out, "diff.json"), func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func agreeWord(ok bool) string {
	if ok {
		return "agree"
	}
	return "DISAGREE"
}

func diffOne(cfg DiffConfig, scenario string, seed uint64) (DiffRun, error) {
	sc, err := ChaosScenario(scenario, seed)
	if cfg.NoFaults {
		sc, err = workloads.Lookup(scenario)
	}
	if err != nil {
		return DiffRun{}, err
	}
	return diffScenario(cfg, sc, seed)
}

// diffScenario runs sc under both strategies and compares their decisions.
func diffScenario(cfg DiffConfig, sc *workloads.Scenario, seed uint64) (DiffRun, error) {
	r := DiffRun{Scenario: sc.Name, Seed: seed, Faults: []string{}}
	for _, f := range sc.Faults {
		r.Faults = append(r.Faults, f.String())
	}
	for i, st := range []plugin.Strategy{cfg.A, cfg.B} {
		obs := newDeleteObserver(ownClient(st))
		res, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: st, Seed: seed, Interceptor: obs, Setup: obs.attach})
		if err != nil {
			return DiffRun{}, fmt.Errorf("%s/%s seed %d: %w", sc.Name, st.Name, seed, err)
		}
		side := decisions(res, st, obs)
		side.Replay = fmt.Sprintf("ctrlsim run --scenario %s --strategy %s --seed %d", sc.Name, st.Name, seed)
		if !cfg.NoFaults {
			side.Replay += " --random-faults"
		}
		if i == 0 {
			r.A = side
		} else {
			r.B = side
		}
	}
	r.Differences = compareSides(r.A, r.B)
	r.Agree = len(r.Differences) == 0
	return r, nil
}

// compareSides says how two runs' decisions differ (DiffRun's rules), one
// line each.
func compareSides(a, b DiffSide) []string {
	var out []string
	if a.Verdict != b.Verdict || a.Signature != b.Signature {
		out = append(out, fmt.Sprintf("verdict: %s %q vs %s %q", a.Verdict, a.Signature, b.Verdict, b.Signature))
	}
	if a.Created-a.Lost != b.Created-b.Lost {
		out = append(out, fmt.Sprintf("pods created: %d (%d lost) vs %d (%d lost)", a.Created, a.Lost, b.Created, b.Lost))
	}
	if onlyA, onlyB := unmatchedDeletions(a.Victims, b.Victims); len(onlyA)+len(onlyB) > 0 {
		out = append(out, fmt.Sprintf("pods deleted: %s vs %s", victimList(onlyA), victimList(onlyB)))
	}
	return out
}

func victimList(vs []DiffVictim) string {
	if len(vs) == 0 {
		return "none"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, ", ")
}

// unmatchedDeletions pairs the two sides' deletions off, as DiffRun says:
// first those that are the same decision (decisionKey), then, per owner,
// those that each took what the ranking put first. It returns the ones left
// over on each side, in their order.
func unmatchedDeletions(a, b []DiffVictim) (onlyA, onlyB []DiffVictim) {
	onlyA, onlyB = pairOff(a, b, decisionKey)
	return pairOff(onlyA, onlyB, func(v DiffVictim) string {
		if !v.First {
			return ""
		}
		return ownerOf(v.Pod)
	})
}

// pairOff pairs deletions with the same non-empty key, as many as both
// sides have, and returns the rest.
func pairOff(a, b []DiffVictim, key func(DiffVictim) string) (onlyA, onlyB []DiffVictim) {
	left := map[string]int{} // key → deletions of a not yet paired
	for _, v := range a {
		left[key(v)]++
	}
	paired := map[string]int{}
	for _, v := range b {
		if k := key(v); k != "" && left[k] > 0 {
			left[k]--
			paired[k]++
		} else {
			onlyB = append(onlyB, v)
		}
	}
	for _, v := range a {
		if k := key(v); k != "" && paired[k] > 0 {
			paired[k]--
		} else {
			onlyA = append(onlyA, v)
		}
	}
	return onlyA, onlyB
}

// decisionKey identifies a deletion across runs: its owner and what the
// ranking saw of the victim, or, for a pod no ReplicaSet or
// ReplicationController ranks, the pod.
func decisionKey(v DiffVictim) string {
	if v.Rank == "" {
		return "pod " + v.Pod
	}
	return "ranked " + ownerOf(v.Pod) + " " + v.Rank
}

// ownerOf is the owner part of a pod's name: "web-" of "web-#3".
func ownerOf(pod string) string {
	prefix, _, _ := strings.Cut(pod, "#")
	return prefix
}

// ownClient reports whether a client is one of the strategy's controllers.
func ownClient(st plugin.Strategy) func(client string) bool {
	return func(client string) bool {
		name, _, _ := strings.Cut(client, "#")
		_, ok := st.Controller(name)
		return ok
	}
}

// decisions reads what the strategy's controllers decided from the history,
// and from obs what the ranking saw of the pods they deleted.
func decisions(res *simrun.Result, st plugin.Strategy, obs *deleteObserver) DiffSide {
	s := DiffSide{Verdict: res.Summary.Verdict, Digest: res.Summary.Digest, Deleted: []string{}, Victims: []DiffVictim{}}
	if s.Verdict != simrun.Pass {
		s.Signature = res.Summary.Signature()
	}
	if obs != nil {
		s.Lost = obs.lost
	}
	mine := ownClient(st)
	ordinal := map[string]string{} // pod key → prefix-#n
	count := map[string]int{}
	deletedWith := map[string]string{} // prefix-#n → the options of its first delete
	type sent struct {
		key    string
		at     time.Duration
		states []rankedState
	}
	var sends []sent // parallel to s.Victims
	for _, op := range res.History {
		if op.Kind != "Pod" {
			continue
		}
		switch op.Verb {
		case "create":
			if op.Subresource != "" || !succeeded(op) {
				continue
			}
			prefix := generatePrefix(op.Key)
			count[prefix]++
			ordinal[op.Key] = fmt.Sprintf("%s#%d", prefix, count[prefix])
			if mine(op.Client) {
				s.Created++
			}
		case "delete":
			if !mine(op.Client) {
				continue
			}
			seen := obs.lookup(op.Key, op.Call.Time)
			if !succeeded(op) && !(op.Code == 404 && seen.found) {
				continue // refused, or of a pod already gone when it was sent
			}
			name := ordinal[op.Key]
			if name == "" {
				name = op.Key
			}
			if arg, again := deletedWith[name]; again && arg == op.Arg {
				continue // the same decision again
			}
			deletedWith[name] = op.Arg
			v := DiffVictim{Pod: name, Rank: seen.view}
			for _, k := range seen.ties {
				v.Ties = append(v.Ties, ordinal[k])
			}
			slices.Sort(v.Ties)
			s.Deleted = append(s.Deleted, name)
			s.Victims = append(s.Victims, v)
			sends = append(sends, sent{op.Key, op.Call.Time, seen.states})
		}
	}
	// First: in some state, every pod ranked before the victim was deleted
	// in the same sync (the deletes sent at the same instant).
	sync := map[time.Duration]map[string]bool{}
	for _, d := range sends {
		if sync[d.at] == nil {
			sync[d.at] = map[string]bool{}
		}
		sync[d.at][d.key] = true
	}
	type kept struct {
		at time.Duration
		r  *podrank.Ranking
	}
	firstKept := map[kept]int{} // the lowest position of a pod not deleted in the sync
	for i, d := range sends {
		s.Victims[i].First = slices.ContainsFunc(d.states, func(st rankedState) bool {
			k := kept{d.at, st.r}
			low, ok := firstKept[k]
			if !ok {
				low = len(st.r.Pods)
				for j, p := range st.r.Pods {
					if !sync[d.at][p.Namespace+"/"+p.Name] {
						low = min(low, st.r.Position[j])
					}
				}
				firstKept[k] = low
			}
			return st.r.Position[st.i] <= low
		})
	}
	slices.Sort(s.Deleted)
	slices.SortStableFunc(s.Victims, func(a, b DiffVictim) int { return strings.Compare(a.Pod, b.Pod) })
	return s
}

// deleteObserver is an apiserver.Interceptor that changes nothing, and a
// commit observer. It counts the pods others take from the strategy's
// controllers (DiffSide.Lost), and sees their pod deletes as they are sent:
// for a pod a ReplicaSet or ReplicationController controls, it ranks the
// owner's active pods as upstream's controller would (package podrank), in
// the server's state then and in the states of the last watch delay, which
// a controller's cache may still show.
type deleteObserver struct {
	api  *apiserver.Server
	mine func(client string) bool
	lost int
	seen map[string]rankedDelete // by "namespace/name@call time"
	// recent are the changes to pods and their owners within the server's
	// longest watch delay (at most maxRankStates), oldest first; at, when.
	recent []apiserver.Event
	at     []time.Duration
	cache  map[string][]*podrank.Ranking
}

// rankedDelete is what the observer saw when a delete was sent.
type rankedDelete struct {
	found  bool     // the pod was there
	view   string   // podrank.View of the victim, in the state then
	ties   []string // keys of the other pods of its class then
	states []rankedState
}

// rankedState is the victim in one ranking of its owner's pods.
type rankedState struct {
	r *podrank.Ranking
	i int
}

// The most states (the current one and those before the last changes) a
// deletion is ranked in, and the most pods in a state it ranks.
const (
	maxRankStates = 16
	maxRankPods   = 2000
)

func newDeleteObserver(mine func(string) bool) *deleteObserver {
	return &deleteObserver{mine: mine, seen: map[string]rankedDelete{}, cache: map[string][]*podrank.Ranking{}}
}

// attach starts observing the cluster's API server (simrun.Config.Setup).
func (o *deleteObserver) attach(c *cluster.Cluster) {
	o.api = c.API
	c.API.OnCommit(o.commit)
}

func (o *deleteObserver) commit(ev apiserver.Event) {
	if ev.Kind == apiserver.Pods && ev.Old != nil && !o.mine(ev.Client) {
		before, after := ev.Old.(*corev1.Pod), ev.Object.(*corev1.Pod)
		gone := ev.Type == watch.Deleted || !kube.IsPodActive(after)
		if gone && kube.IsPodActive(before) && o.counted(before) {
			o.lost++
		}
	}
	switch ev.Kind {
	case apiserver.Pods, apiserver.ReplicaSets, apiserver.ReplicationControllers:
	default:
		return
	}
	now := o.api.World().Elapsed()
	lag := o.api.Config().WatchDelay.Max
	drop := 0
	for drop < len(o.at) && (o.at[drop] < now-lag || len(o.at)-drop >= maxRankStates) {
		drop++
	}
	o.recent = append(append(o.recent[:0:0], o.recent[drop:]...), ev)
	o.at = append(append(o.at[:0:0], o.at[drop:]...), now)
}

// counted reports whether a pod counts towards its controller's replicas:
// it has a controller, and the controller selects it.
func (o *deleteObserver) counted(pod *corev1.Pod) bool {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return false
	}
	for _, obj := range o.api.Objects(apiserver.Kind(ref.Kind)) {
		if obj.GetUID() == ref.UID {
			return podrank.Selects(obj, pod)
		}
	}
	return false
}

func (o *deleteObserver) Intercept(req *apiserver.Request) apiserver.Interception {
	if o.api == nil || req.Verb != apiserver.Delete || req.Kind != apiserver.Pods || !o.mine(req.Client) {
		return apiserver.Interception{}
	}
	ns := req.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	key := ns + "/" + req.Name
	pods := o.api.Objects(apiserver.Pods) // in key order
	i, found := slices.BinarySearchFunc(pods, key, func(obj apiserver.Object, key string) int {
		return strings.Compare(obj.GetNamespace()+"/"+obj.GetName(), key)
	})
	if found {
		d := o.rank(pods[i].(*corev1.Pod))
		d.found = true
		o.seen[fmt.Sprintf("%s@%d", key, o.api.World().Elapsed())] = d
	}
	return apiserver.Interception{}
}

func (o *deleteObserver) lookup(key string, at time.Duration) rankedDelete {
	if o == nil {
		return rankedDelete{}
	}
	return o.seen[fmt.Sprintf("%s@%d", key, at)]
}

// rank ranks a pod about to be deleted among its owner's; nothing for a
// pod no ReplicaSet or ReplicationController controls, or one of an owner
// too large to rank.
func (o *deleteObserver) rank(victim *corev1.Pod) rankedDelete {
	ref := metav1.GetControllerOfNoCopy(victim)
	if ref == nil || (ref.Kind != "ReplicaSet" && ref.Kind != "ReplicationController") {
		return rankedDelete{}
	}
	var d rankedDelete
	for n, r := range o.rankings(ref) {
		i, ok := r.Index(victim.UID)
		if !ok {
			continue // not yet, or no longer, an active pod of its owner
		}
		if n == 0 {
			d.view = r.Views[i]
			for _, j := range r.Ties(i) {
				if len(d.ties) < maxTies {
					d.ties = append(d.ties, r.Pods[j].Namespace+"/"+r.Pods[j].Name)
				}
			}
		}
		d.states = append(d.states, rankedState{r, i})
	}
	return d
}

// rankings ranks the owner's pods in the server's state now and in the
// states before each of the recent changes, newest first. A sync sends its
// deletes together: they share the work.
func (o *deleteObserver) rankings(ref *metav1.OwnerReference) []*podrank.Ranking {
	id := fmt.Sprintf("%s %d %d", ref.UID, o.api.ResourceVersion(), o.api.World().Elapsed())
	if r, ok := o.cache[id]; ok {
		return r
	}
	kind := apiserver.Kind(ref.Kind)
	now := o.api.World().Now()
	pods, owners := objectMap(o.api.Objects(apiserver.Pods)), objectMap(o.api.Objects(kind))
	var out []*podrank.Ranking
	for n := len(o.recent); n >= 0; n-- {
		if n < len(o.recent) { // undo change n: the state before it
			ev := o.recent[n]
			m := pods
			if ev.Kind != apiserver.Pods {
				m = owners
				if ev.Kind != kind {
					continue // the same state
				}
			}
			switch ev.Type {
			case watch.Added:
				delete(m, ev.Key)
			case watch.Modified:
				m[ev.Key] = ev.Old
			case watch.Deleted:
				m[ev.Key] = ev.Object
			}
		}
		ownerList := objects(owners)
		i := slices.IndexFunc(ownerList, func(obj apiserver.Object) bool { return obj.GetUID() == ref.UID })
		if i < 0 {
			continue
		}
		podList := objects(pods)
		if len(podList) > maxRankPods {
			break
		}
		out = append(out, podrank.Owner(ownerList[i], ownerList, podList, now))
	}
	if len(o.cache) > 64 {
		clear(o.cache)
	}
	o.cache[id] = out
	return out
}

// objectMap keys objects as the store does, by namespace/name.
func objectMap(objs []apiserver.Object) map[string]apiserver.Object {
	m := make(map[string]apiserver.Object, len(objs))
	for _, o := range objs {
		m[o.GetNamespace()+"/"+o.GetName()] = o
	}
	return m
}

// objects are a map's objects in key order.
func objects(m map[string]apiserver.Object) []apiserver.Object {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]apiserver.Object, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func succeeded(op *history.Op) bool { return op.Code >= 200 && op.Code < 300 }

// generatePrefix is a generated name's generateName ("web-" of "web-x7k2p"):
// the API server adds five characters.
func generatePrefix(key string) string {
	i := strings.LastIndexByte(key, '-')
	if i < 0 || len(key)-i-1 != 5 {
		return key
	}
	return key[:i+1]
}

// WriteText writes the sweep's disagreements and counts for a person.
func (r *DiffResult) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tSEED\t%s\t%s\tDIFFERENCE\n", r.A, r.B)
	for _, run := range r.Runs {
		if run.Agree {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", run.Scenario, run.Seed, run.A.Verdict, run.B.Verdict, strings.Join(run.Differences, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d runs, %d disagreements (%s vs %s)\n", len(r.Runs), r.Disagreements, r.A, r.B)
	return err
}

func newDiffCmd(set *strategySet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff --strategies A,B [flags]",
		Short: "Run the same scenarios, seeds and fault plans under two strategies and compare their decisions",
		Example: `  ctrlsim diff --strategies upstream,kcm --seeds 20 --out out/diff
  ctrlsim diff --strategies upstream,kcm-replicaset --scenarios rs-scale-down-deletion-cost --seeds 5 --no-faults`,
		Args: noArgs,
	}
	f := cmd.Flags()
	sel := addSelectionFlags(cmd, set, "upstream", "two comma-separated strategies: the model, then the other",
		"20", "seeds: a count N (1…N) or a range FROM-TO; each seed draws its own fault plan")
	noFaults := f.Bool("no-faults", false, "run the scenarios as written, without random fault plans")
	out := f.String("out", "", "directory for diff.json")
	exitZero := f.Bool("exit-zero", false, "exit 0 even when the strategies disagreed")
	output := outputFlag(cmd, "what to print: text (the disagreements and counts) or json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(cmd, *output); err != nil {
			return err
		}
		strats, scNames, seedList, err := sel.resolve(cmd, "no scenario to run")
		if err != nil {
			return err
		}
		if len(strats) != 2 {
			return usagef(cmd, "--strategies takes two strategies, not %d", len(strats))
		}
		res, err := Diff(cmd.Context(), DiffConfig{A: strats[0], B: strats[1], Scenarios: scNames, Seeds: seedList,
			NoFaults: *noFaults, Jobs: *sel.jobs, Out: *out, Progress: cmd.ErrOrStderr()})
		if err != nil {
			return errorOf(cmd, err)
		}
		if *output == "json" {
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(res); err != nil {
				return failf(cmd, "%v", err)
			}
		} else if err := res.WriteText(cmd.OutOrStdout()); err != nil {
			return failf(cmd, "%v", err)
		}
		if *exitZero || res.Disagreements == 0 {
			return nil
		}
		return exit(ExitFail)
	}
	return cmd
}
