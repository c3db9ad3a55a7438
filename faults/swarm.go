package faults

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
)

// Scope is what a random plan may touch, and when: it comes from the
// scenario (its nodes, its workloads' pod selectors, its owners, the kinds
// of its controllers).
type Scope struct {
	// Window: every fault starts and heals within [0, Window], so that the
	// convergence check after it judges a quiet cluster.
	Window      time.Duration
	Nodes       []string // node names
	Selectors   []string // pod label selectors (app=web)
	Owners      []string // rs/web, rc/frontend
	Controllers []string // rs, rc
	Exclude     []Kind   // kinds the plan must not use
	// StepKeys are label and annotation keys the scenario's steps set: a
	// random annotate leaves them to the steps.
	StepKeys []string
}

// Random is a swarm-testing plan for seed: a random subset of the fault kinds
// (each kind in or out with even odds, so that different seeds stress
// different combinations), then one or two faults of each chosen kind at
// random times within the scope's window. Its numbers come from a stream of
// its own, so the same seed gives the same plan and the run's other streams
// are untouched.
func Random(seed uint64, scope Scope) Plan {
	r := sim.NewStreams(seed).Get("faults/swarm")
	var kinds []KindInfo
	for _, k := range Kinds {
		if r.IntN(2) == 0 && applicable(k, scope) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		for _, k := range Kinds {
			if applicable(k, scope) {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) == 0 {
			return nil
		}
		kinds = []KindInfo{kinds[r.IntN(len(kinds))]}
	}
	window := max(scope.Window, 30*time.Second)
	var plan Plan
	for _, k := range kinds {
		for range 1 + r.IntN(2) {
			plan = append(plan, randomFault(r, k, scope, window))
		}
	}
	slices.SortStableFunc(plan, func(a, b Fault) int { return int(a.At - b.At) })
	return plan
}

func applicable(k KindInfo, s Scope) bool {
	if slices.Contains(s.Exclude, k.Kind) {
		return false
	}
	switch k.Target {
	case TargetNode:
		return len(s.Nodes) > 0
	case TargetPods:
		return len(s.Selectors) > 0
	case TargetObject:
		return len(s.Owners) > 0
	case TargetController:
		return len(s.Controllers) > 0
	}
	return true
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// seconds draws a whole number of seconds in [lo, hi].
func seconds(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo.Truncate(time.Second)
	}
	return lo.Truncate(time.Second) + time.Duration(r.Int64N(int64((hi-lo)/time.Second)+1))*time.Second
}

func randomFault(r *rand.Rand, k KindInfo, s Scope, window time.Duration) Fault {
	f := Fault{Kind: k.Kind, Rate: 1}
	if k.Window || k.Heals {
		f.For = seconds(r, 5*time.Second, min(2*time.Minute, window/2))
	}
	f.At = seconds(r, 0, window-f.For)
	switch k.Target {
	case TargetNode:
		f.Target = "node/" + pick(r, s.Nodes)
	case TargetPods:
		f.Target, f.Selector, f.Count = "pods", pick(r, s.Selectors), 1+r.IntN(3)
	case TargetObject:
		f.Target = pick(r, s.Owners)
	case TargetController:
		f.Target = pick(r, s.Controllers)
	case TargetVerbs:
		f.Target = pick(r, []string{"create", "delete", "update", "patch", "create,delete", "*"})
	}
	switch k.Kind {
	case Relabel:
		f.Set = map[string]string{"ctrlsim.io/relabelled": "true"}
		// Out of the selector: the key of the selector gets another value.
		if key, _, ok := cutSelector(f.Selector); ok {
			f.Set = map[string]string{key: "relabelled"}
		}
	case FlapReadiness:
		f.Period = seconds(r, 2*time.Second, 20*time.Second)
	case Annotate:
		key := "controller.kubernetes.io/pod-deletion-cost"
		if slices.Contains(s.StepKeys, key) {
			key = "ctrlsim.io/annotated"
		}
		f.Set = map[string]string{key: fmt.Sprint(r.IntN(2001) - 1000)}
	case APILatency:
		f.Delay = apiserver.Fixed(seconds(r, time.Second, 10*time.Second))
	case WatchDelay:
		f.Delay = apiserver.Fixed(seconds(r, time.Second, 20*time.Second))
	case APIError:
		f.Code = pick(r, []int{409, 429, 500, 504})
		f.Rate = pick(r, []float64{0.1, 0.25, 0.5, 1})
	case LoseResponse:
		f.Rate = pick(r, []float64{0.1, 0.25, 0.5})
	case WatchDrop:
		f.Gone = r.IntN(2) == 0
	case ClockSkew:
		f.Skew = seconds(r, time.Second, 10*time.Minute)
		if r.IntN(2) == 0 {
			f.Skew = -f.Skew
		}
	}
	return f
}

// cutSelector splits an equality selector "key=value".
func cutSelector(sel string) (key, val string, ok bool) {
	for i := 0; i < len(sel); i++ {
		switch sel[i] {
		case ',', '!', ' ', '(':
			return "", "", false
		case '=':
			return sel[:i], sel[i+1:], i > 0
		}
	}
	return "", "", false
}
