package workloads

import (
	"fmt"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
)

// kindNames maps kubectl's resource names and short names to kinds.
var kindNames = map[string]apiserver.Kind{}

// resourceNames are each kind's names: singular, plural and short names.
var resourceNames = map[apiserver.Kind][]string{
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
}

func init() {
	for kind, names := range resourceNames {
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
		return "", "", fmt.Errorf("unknown resource type %q in %q (known: %s)", res, target, knownKindNames())
	}
	if strings.Contains(name, "/") {
		return "", "", fmt.Errorf("%q: expected <type>/<name>, e.g. rs/frontend", target)
	}
	return kind, name, nil
}

// knownKindNames lists the resource types, in the API server's kind order:
// "pods (po), nodes (no), …".
func knownKindNames() string {
	var out []string
	for _, k := range apiserver.Kinds {
		names := resourceNames[k]
		if len(names) == 0 {
			continue
		}
		s := names[1]
		if len(names) > 2 {
			s += " (" + names[2] + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}
