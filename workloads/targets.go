package workloads

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
)

// kindNames maps kubectl's resource names and short names to kinds.
var kindNames = map[string]apiserver.Kind{}

func init() {
	for kind, names := range map[apiserver.Kind][]string{
		apiserver.Pods:                     {"pod", "pods", "po"},
		apiserver.Nodes:                    {"node", "nodes", "no"},
		apiserver.ReplicaSets:              {"replicaset", "replicasets", "rs"},
		apiserver.ReplicationControllers:   {"replicationcontroller", "replicationcontrollers", "rc"},
		apiserver.Deployments:              {"deployment", "deployments", "deploy"},
		apiserver.StatefulSets:             {"statefulset", "statefulsets", "sts"},
		apiserver.DaemonSets:               {"daemonset", "daemonsets", "ds"},
		apiserver.PersistentVolumeClaims:   {"persistentvolumeclaim", "persistentvolumeclaims", "pvc"},
		apiserver.Services:                 {"service", "services", "svc"},
		apiserver.HorizontalPodAutoscalers: {"horizontalpodautoscaler", "horizontalpodautoscalers", "hpa"},
		apiserver.ControllerRevisions:      {"controllerrevision", "controllerrevisions"},
	} {
		for _, n := range names {
			kindNames[n] = kind
		}
	}
}

// ParseTarget splits "rs/frontend" into its kind and name; "pods" (no name)
// gives the kind alone.
func ParseTarget(target string) (apiserver.Kind, string, error) {
	res, name, _ := strings.Cut(target, "/")
	kind, ok := kindNames[strings.ToLower(res)]
	if !ok {
		return "", "", fmt.Errorf("unknown resource type %q in %q (known: %s)", res, target, strings.Join(knownKindNames(), ", "))
	}
	return kind, name, nil
}

func knownKindNames() []string {
	out := make([]string, 0, len(kindNames))
	for n := range kindNames {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
