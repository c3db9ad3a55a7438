package hpa

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// recommendation is one unstabilized proposal and when it was made.
type recommendation struct {
	replicas int32
	at       time.Time
}

// scaleEvent is one change the autoscaler made (with spec.behavior only).
type scaleEvent struct {
	change   int32 // pods added or removed (non-negative)
	at       time.Time
	outdated bool // older than the longest policy period: its slot may be reused
}

// history is what the autoscaler remembers of one HPA between syncs. It lives
// in the controller's memory only: a restarted controller starts over.
type history struct {
	recs       []recommendation
	ups, downs []scaleEvent
}

// limited is a proposal after the limits, with the reason for
// ScalingLimited.
type limited struct {
	replicas int32
	reason   string
	message  string
}

// stabilize (no spec.behavior) records the proposal and returns the highest
// proposal of the stabilization window: a scale-down happens only once every
// recent proposal agrees. The proposal replaces one sample older than the
// window (the last such) instead of growing the list.
func (h *history) stabilize(proposal int32, now time.Time, window time.Duration) int32 {
	highest := proposal
	cutoff := now.Add(-window)
	old := -1
	for i, r := range h.recs {
		if r.at.Before(cutoff) {
			old = i
		} else if r.replicas > highest {
			highest = r.replicas
		}
	}
	if old >= 0 {
		h.recs[old] = recommendation{proposal, now}
	} else {
		h.recs = append(h.recs, recommendation{proposal, now})
	}
	return highest
}

// scaleUpLimit without spec.behavior: at most double, and at least 4.
func scaleUpLimit(current int32) int32 {
	return int32(math.Max(2*float64(current), 4))
}

// clampWithRules (no spec.behavior) bounds the stabilized proposal by
// [minReplicas, min(maxReplicas, scaleUpLimit)].
func clampWithRules(current, desired, minReplicas, maxReplicas int32) limited {
	hi, reason, msg := maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
	if up := scaleUpLimit(current); maxReplicas > up {
		hi, reason, msg = up, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
	}
	switch {
	case desired < minReplicas:
		return limited{minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"}
	case desired > hi:
		return limited{hi, reason, msg}
	}
	return limited{desired, "DesiredWithinRange", "the desired count is within the acceptable range"}
}

// stabilizeWithBehavior records the proposal and bounds it by the lowest
// proposal of the scale-up window and the highest of the scale-down window,
// starting from the current count. It returns the stabilized count and the
// AbleToScale reason and message for when it differs from the proposal.
func (h *history) stabilizeWithBehavior(current, proposal int32, up, down *autoscalingv2.HPAScalingRules, now time.Time) (int32, string, string) {
	upLow, downHigh := proposal, proposal
	upCut := now.Add(-seconds(*up.StabilizationWindowSeconds))
	downCut := now.Add(-seconds(*down.StabilizationWindowSeconds))
	old := -1
	for i, r := range h.recs {
		if r.at.After(upCut) {
			upLow = min(upLow, r.replicas)
		}
		if r.at.After(downCut) {
			downHigh = max(downHigh, r.replicas)
		}
		if r.at.Before(upCut) && r.at.Before(downCut) {
			old = i
		}
	}
	out := max(current, upLow)
	out = min(out, downHigh)
	if old >= 0 {
		h.recs[old] = recommendation{proposal, now}
	} else {
		h.recs = append(h.recs, recommendation{proposal, now})
	}
	if proposal >= current {
		return out, "ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation"
	}
	return out, "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"
}

// clampWithBehavior bounds the stabilized count by the behavior's rate
// policies (the changes made within each policy's period count against it)
// and by [minReplicas, maxReplicas].
func (h *history) clampWithBehavior(current, desired, minReplicas, maxReplicas int32, up, down *autoscalingv2.HPAScalingRules, now time.Time) limited {
	switch {
	case desired > current:
		limit := max(h.upLimit(current, up, now), current)
		hi, reason, msg := maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
		if maxReplicas > limit {
			hi, reason, msg = limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
		}
		if desired > hi {
			return limited{hi, reason, msg}
		}
	case desired < current:
		limit := min(h.downLimit(current, down, now), current)
		lo, reason, msg := minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
		if minReplicas < limit {
			lo, reason, msg = limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
		}
		if desired < lo {
			return limited{lo, reason, msg}
		}
	}
	return limited{desired, "DesiredWithinRange", "the desired count is within the acceptable range"}
}

// changedWithin sums the changes of the events newer than period.
func changedWithin(events []scaleEvent, period int32, now time.Time) int32 {
	cutoff := now.Add(-seconds(period))
	var n int32
	for _, e := range events {
		if e.at.After(cutoff) {
			n += e.change
		}
	}
	return n
}

// upLimit is the most replicas the scale-up policies allow now: per policy,
// from the count at the start of its period, add Value pods or Value
// percent (rounded up).
func (h *history) upLimit(current int32, rules *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	return h.policyLimit(current, rules, now, true, func(start int32, p autoscalingv2.HPAScalingPolicy) (proposed int32) {
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start + p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		return proposed
	})
}

// downLimit is the fewest replicas the scale-down policies allow now (Value
// percent rounded down toward keeping pods).
func (h *history) downLimit(current int32, rules *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	return h.policyLimit(current, rules, now, false, func(start int32, p autoscalingv2.HPAScalingPolicy) (proposed int32) {
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start - p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		return proposed
	})
}

// policyLimit is the limit of the policies of rules in one direction (up or
// down): propose gives a policy's limit from the count at the start of its
// period; Max takes the most permissive policy, Min the least, Disabled
// allows nothing.
func (h *history) policyLimit(current int32, rules *autoscalingv2.HPAScalingRules, now time.Time, up bool,
	propose func(start int32, p autoscalingv2.HPAScalingPolicy) int32) int32 {
	sel := *rules.SelectPolicy
	if sel == autoscalingv2.DisabledPolicySelect {
		return current
	}
	// The highest proposal wins for Max going up and for Min going down.
	result, pick := int32(math.MinInt32), func(a, b int32) int32 { return max(a, b) }
	if up == (sel == autoscalingv2.MinChangePolicySelect) {
		result, pick = math.MaxInt32, func(a, b int32) int32 { return min(a, b) }
	}
	for _, p := range rules.Policies {
		start := current - changedWithin(h.ups, p.PeriodSeconds, now) + changedWithin(h.downs, p.PeriodSeconds, now)
		result = pick(result, propose(start, p))
	}
	return result
}

// record keeps a change made under spec.behavior, reusing the slot of an
// event older than the longest policy period.
func (h *history) record(behavior *autoscalingv2.HorizontalPodAutoscalerBehavior, from, to int32, now time.Time) {
	if behavior == nil {
		return
	}
	events, rules, change := &h.downs, behavior.ScaleDown, from-to
	if to > from {
		events, rules, change = &h.ups, behavior.ScaleUp, to-from
	}
	var longest int32
	for _, p := range rules.Policies {
		longest = max(longest, p.PeriodSeconds)
	}
	cutoff := now.Add(-seconds(longest))
	slot := -1
	for i := range *events {
		if (*events)[i].at.Before(cutoff) {
			(*events)[i].outdated = true
		}
		if (*events)[i].outdated {
			slot = i
		}
	}
	e := scaleEvent{change: change, at: now}
	if slot >= 0 {
		(*events)[slot] = e
	} else {
		*events = append(*events, e)
	}
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

// Behavior defaults, as the API server's defaulting of autoscaling/v2 fills
// a given spec.behavior: scale up by max(4 pods, 100%) per 15 s with no
// stabilization; scale down by 100% per 15 s with the controller's
// stabilization window.
func defaultedBehavior(b *autoscalingv2.HorizontalPodAutoscalerBehavior, downWindow time.Duration) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	if b == nil {
		return nil
	}
	b = b.DeepCopy()
	maxPolicy := autoscalingv2.MaxChangePolicySelect
	zero := int32(0)
	up := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &zero, SelectPolicy: &maxPolicy, Policies: []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
		{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
	}}
	maxPolicy2 := autoscalingv2.MaxChangePolicySelect
	down := &autoscalingv2.HPAScalingRules{SelectPolicy: &maxPolicy2, Policies: []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
	}}
	b.ScaleUp = overlay(b.ScaleUp, up)
	b.ScaleDown = overlay(b.ScaleDown, down)
	if b.ScaleDown.StabilizationWindowSeconds == nil {
		w := int32(downWindow / time.Second)
		b.ScaleDown.StabilizationWindowSeconds = &w
	}
	return b
}

// overlay fills def with the fields set in given.
func overlay(given, def *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if given == nil {
		return def
	}
	if given.SelectPolicy != nil {
		def.SelectPolicy = given.SelectPolicy
	}
	if given.StabilizationWindowSeconds != nil {
		def.StabilizationWindowSeconds = given.StabilizationWindowSeconds
	}
	if given.Policies != nil {
		def.Policies = given.Policies
	}
	if given.Tolerance != nil {
		def.Tolerance = given.Tolerance
	}
	return def
}
