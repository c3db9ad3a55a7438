package workloads

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Condition is what a step waits for: counts in one workload's status compared
// with numbers, all of which must hold ("rs/frontend ready=3",
// "deploy/web available>=2 replicas=3").
type Condition struct {
	Kind   apiserver.Kind
	Name   string
	Target string // as written: rs/frontend
	Checks []Check
}

// Check compares one status count with a number.
type Check struct {
	Field string // ready, replicas or available
	Op    string // =, >= or <=
	Value int32
}

func (c Check) String() string { return fmt.Sprintf("%s%s%d", c.Field, c.Op, c.Value) }

// Object is the object the condition reads (a fault's trigger).
func (c *Condition) Object() (apiserver.Kind, string) { return c.Kind, c.Name }

func (c *Condition) String() string {
	parts := []string{c.Target}
	for _, ch := range c.Checks {
		parts = append(parts, ch.String())
	}
	return strings.Join(parts, " ")
}

// The status counts a condition can test, as kubectl get shows them.
var conditionFields = []string{"ready", "replicas", "available"}

// conditionKinds are the kinds whose status has those counts.
var conditionKinds = map[apiserver.Kind]bool{
	apiserver.ReplicaSets: true, apiserver.ReplicationControllers: true, apiserver.Deployments: true,
	apiserver.StatefulSets: true, apiserver.DaemonSets: true,
}

const conditionSyntax = "expected <kind>/<name> <field>=<n> with field ready, replicas or available (also >= and <=), e.g. rs/frontend ready=3"

// ParseCondition parses "rs/frontend ready=3".
func ParseCondition(s string) (*Condition, error) {
	words := strings.Fields(s)
	if len(words) < 2 {
		return nil, fmt.Errorf("%s", conditionSyntax)
	}
	kind, name, err := ParseTarget(words[0])
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("%q names no object: %s", words[0], conditionSyntax)
	}
	if !conditionKinds[kind] {
		return nil, fmt.Errorf("a %s has no ready/replicas/available counts: conditions test a ReplicaSet, ReplicationController, Deployment, StatefulSet or DaemonSet", kind)
	}
	c := &Condition{Kind: kind, Name: name, Target: words[0]}
	for _, w := range words[1:] {
		ch, err := parseCheck(w)
		if err != nil {
			return nil, err
		}
		c.Checks = append(c.Checks, ch)
	}
	return c, nil
}

func parseCheck(w string) (Check, error) {
	var ch Check
	i := strings.IndexAny(w, "=<>")
	if i <= 0 {
		return ch, fmt.Errorf("%q: %s", w, conditionSyntax)
	}
	ch.Field = w[:i]
	rest := w[i:]
	switch {
	case strings.HasPrefix(rest, ">="), strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "=="):
		ch.Op, rest = rest[:2], rest[2:]
	case strings.HasPrefix(rest, "="):
		ch.Op, rest = "=", rest[1:]
	default:
		return ch, fmt.Errorf("%q: %s", w, conditionSyntax)
	}
	if ch.Op == "==" {
		ch.Op = "="
	}
	known := false
	for _, f := range conditionFields {
		known = known || f == ch.Field
	}
	if !known {
		return ch, fmt.Errorf("%q: unknown field %q (%s)", w, ch.Field, conditionSyntax)
	}
	n, err := strconv.ParseInt(rest, 10, 32)
	if err != nil || n < 0 {
		return ch, fmt.Errorf("%q: %q is not a count (%s)", w, rest, conditionSyntax)
	}
	ch.Value = int32(n)
	return ch, nil
}

// counts are an object's status counts by condition field.
func counts(obj apiserver.Object) map[string]int32 {
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		return map[string]int32{"ready": o.Status.ReadyReplicas, "replicas": o.Status.Replicas, "available": o.Status.AvailableReplicas}
	case *corev1.ReplicationController:
		return map[string]int32{"ready": o.Status.ReadyReplicas, "replicas": o.Status.Replicas, "available": o.Status.AvailableReplicas}
	case *appsv1.Deployment:
		return map[string]int32{"ready": o.Status.ReadyReplicas, "replicas": o.Status.Replicas, "available": o.Status.AvailableReplicas}
	case *appsv1.StatefulSet:
		return map[string]int32{"ready": o.Status.ReadyReplicas, "replicas": o.Status.Replicas, "available": o.Status.AvailableReplicas}
	case *appsv1.DaemonSet:
		return map[string]int32{"ready": o.Status.NumberReady, "replicas": o.Status.CurrentNumberScheduled, "available": o.Status.NumberAvailable}
	}
	return nil
}

// Holds says whether obj meets the condition, and what it has of the tested
// counts ("ready=2 available=2").
func (c *Condition) Holds(obj apiserver.Object) (bool, string) {
	have := counts(obj)
	ok := true
	seen := make([]string, 0, len(c.Checks))
	for _, ch := range c.Checks {
		v := have[ch.Field]
		seen = append(seen, fmt.Sprintf("%s=%d", ch.Field, v))
		switch ch.Op {
		case "=":
			ok = ok && v == ch.Value
		case ">=":
			ok = ok && v >= ch.Value
		case "<=":
			ok = ok && v <= ch.Value
		}
	}
	return ok, strings.Join(seen, " ")
}
