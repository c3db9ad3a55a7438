package host

import (
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// A handler that blocks during its replay (controller-runtime's map
// functions read other caches, which wait for their informer to sync) holds
// the informer's lock; another AddEventHandler then waits for it, durably,
// so that synctest.Wait returns and the host can answer what the handler
// waits for. With a sync.Mutex the wait is not durable, and synctest.Wait
// never returns.
func TestBlockedHandlerLeavesTheBubbleSettled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lw := &fakeLW{}
		lw.set("5", pod("ns", "a", "1"))
		inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, 0, nil)
		stop := run(t, inf)
		defer stop()
		require.True(t, inf.HasSynced())

		release, blocked := make(chan struct{}), make(chan struct{})
		go func() {
			_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(any) {
				close(blocked)
				<-release // waiting for another informer to sync
			}})
			require.NoError(t, err)
		}()
		<-blocked
		second := make(chan struct{})
		go func() {
			defer close(second)
			_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{})
			require.NoError(t, err)
		}()
		synctest.Wait() // hangs if the second registration is not durably blocked
		close(release)
		<-second
	})
}
