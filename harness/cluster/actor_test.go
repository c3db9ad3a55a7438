package cluster

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

func TestActorHandler(t *testing.T) {
	pod := func(uid string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: types.UID(uid)}}
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "n"}}
	for _, tc := range []struct {
		name    string
		deliver func(h controller.Handler)
		want    []string
	}{
		{"add", func(h controller.Handler) { h.OnChange(watch.Added, "default/web", pod("u1"), nil) },
			[]string{"ADDED default/web u1 old="}},
		{"update keeps the old object", func(h controller.Handler) { h.OnChange(watch.Modified, "default/web", pod("u1"), pod("u1")) },
			[]string{"MODIFIED default/web u1 old=u1"}},
		{"another uid under the name: a deletion and an addition", func(h controller.Handler) { h.OnChange(watch.Modified, "default/web", pod("u2"), pod("u1")) },
			[]string{"DELETED default/web u1 old=u1", "ADDED default/web u2 old="}},
		{"delete", func(h controller.Handler) { h.OnChange(watch.Deleted, "default/web", pod("u1"), pod("u1")) },
			[]string{"DELETED default/web u1 old=u1"}},
		{"a cluster-scoped object's key is its name", func(h controller.Handler) { h.OnChange(watch.Added, "node-1", node, nil) },
			[]string{"ADDED node-1 n old="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			fn := func(typ watch.EventType, key string, obj, old apiserver.Object) {
				s := string(typ) + " " + key + " " + string(obj.GetUID()) + " old="
				if old != nil {
					s += string(old.GetUID())
				}
				got = append(got, s)
			}
			synced := 0
			h := actorHandler(fn, func() { synced++ })
			tc.deliver(h)
			h.OnSync()
			assert.Equal(t, tc.want, got)
			assert.Equal(t, 1, synced)
		})
	}
}
