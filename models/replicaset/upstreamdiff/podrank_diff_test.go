package upstreamdiff

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ctrlsim/ctrlsim/harness/check/podrank"
)

// ctrlsim diff reads which of an owner's pods upstream's ranking tells apart
// with package podrank (not the model): its Less must be upstream's, pair by
// pair.
func TestPodrankLessIsUpstreams(t *testing.T) {
	requireUpstreamGates(t)
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			pairs, wrong := 0, 0
			for si, s := range corpus(c.opts) {
				up := upstream(s)
				for i := range s.pods {
					for j := range s.pods {
						pairs++
						if got, want := podrank.Less(s.pods[i], s.pods[j], s.ranks[i], s.ranks[j], s.now), up.Less(i, j); got != want {
							if wrong++; wrong <= maxReportedPairs {
								t.Errorf("set %d: podrank.Less(%s, %s) = %t, upstream %t (first differing rule: %s)\n    %s\n    %s",
									si, s.pods[i].UID, s.pods[j].UID, got, want, decidingRule(s, i, j), describe(s, i), describe(s, j))
							}
						}
					}
				}
			}
			t.Logf("%d of %d pairs differ", wrong, pairs)
		})
	}
}

// podrank's classes bound what sort.Sort leaves to its input order: over
// random input orders, upstream's own sort.Sort always lists the classes in
// the order of their positions, also where its Less is not a strict weak
// order (so "the ranking puts pod a strictly before pod b" is well defined).
// The corpus has sets, some of them such, that it sorts differently by
// input order.
func TestPodrankClassesBoundUpstreamSort(t *testing.T) {
	requireUpstreamGates(t)
	const orders = 8
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			wrong, swapped, swappedCircle := 0, 0, 0
			for si, s := range corpus(c.opts) {
				rk := podrank.New(s.pods, s.ranks, s.now)
				circle := intransitive(lessMatrix(s)) != nil
				pos := map[*corev1.Pod]int{}
				for i, p := range s.pods {
					pos[p] = i
				}
				var first []int
				for o := range orders {
					perm := r.Perm(len(s.pods))
					in := podSet{now: s.now}
					for _, k := range perm {
						in.pods, in.ranks = append(in.pods, s.pods[k]), append(in.ranks, s.ranks[k])
					}
					up := upstream(in)
					sort.Sort(up)
					var out []int
					for _, p := range up.Pods {
						out = append(out, pos[p])
					}
					for k := 1; k < len(out); k++ {
						if rk.Position[out[k-1]] > rk.Position[out[k]] {
							if wrong++; wrong <= maxReportedPairs {
								t.Errorf("set %d: sort.Sort put %s (position %d) before %s (position %d)\n    %s\n    %s", si,
									s.pods[out[k-1]].UID, rk.Position[out[k-1]], s.pods[out[k]].UID, rk.Position[out[k]],
									describe(s, out[k-1]), describe(s, out[k]))
							}
						}
					}
					if o == 0 {
						first = out
					} else if !slices.Equal(first, out) {
						swapped++
						if circle {
							swappedCircle++
						}
						break
					}
				}
			}
			t.Logf("%d sets sorted differently by input order, %d of them not strict weak orders; %d class-order violations", swapped, swappedCircle, wrong)
			if swappedCircle == 0 {
				t.Error("no set whose order depends on the input went round in a circle: the corpus does not exercise the classes")
			}
		})
	}
}
