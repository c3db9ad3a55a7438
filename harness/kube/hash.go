package kube

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/dump"
)

// ComputeHash is upstream's controller.ComputeHash: FNV-32a over the
// template as dump.ForHash prints it (spew with sorted keys and without
// pointer addresses, so equal templates hash equally in every process),
// then the collision count if set, encoded with rand.SafeEncodeString. It
// is a Deployment's pod-template-hash and a DaemonSet's revision hash.
func ComputeHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%v", dump.ForHash(*template))
	if collisionCount != nil {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(*collisionCount))
		h.Write(b)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// HashControllerRevision is upstream's history.HashControllerRevision for a
// revision whose data is raw bytes: FNV-32 (not 32a) over the data, then the
// probe (collision count) in decimal if set.
func HashControllerRevision(data []byte, probe *int32) string {
	h := fnv.New32()
	h.Write(data)
	if probe != nil {
		h.Write([]byte(strconv.FormatInt(int64(*probe), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// EqualIgnoreHash reports whether two pod templates are semantically equal
// but for their pod-template-hash labels (the Deployment util's
// EqualIgnoreHash). A template whose only label is the hash equals one with
// no labels at all, as upstream's (it deletes the key from a copy).
func EqualIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	x, y := *a, *b
	x.Labels, y.Labels = withoutHash(a.Labels), withoutHash(b.Labels)
	return equality.Semantic.DeepEqual(x, y)
}

// withoutHash returns labels without the hash label; it copies only when
// it must, so the caller's map is never changed.
func withoutHash(l map[string]string) map[string]string {
	if _, ok := l[appsv1.DefaultDeploymentUniqueLabelKey]; !ok {
		return l
	}
	out := make(map[string]string, len(l)-1)
	for k, v := range l {
		if k != appsv1.DefaultDeploymentUniqueLabelKey {
			out[k] = v
		}
	}
	return out
}
