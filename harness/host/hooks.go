package host

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"
)

var hooksOnce sync.Once

// installHooks adapts apimachinery's process-wide crash and error handling to
// hosted code, once per process:
//   - HandleError's default rate limiter compares time.Now with the wall
//     clock it read at package init; inside a bubble (whose clock starts in
//     2000) its first error would sleep the bubble forward by decades. Errors
//     are logged, not rate limited.
//   - HandleCrash re-panics, which would end the process; a hosted
//     controller's panic is its failure, reported with the run's seed. With
//     ReallyCrash off the panicking goroutine returns after the handlers run;
//     the handler finds the host through the context hosted code was given.
func installHooks() {
	hooksOnce.Do(func() {
		utilruntime.ErrorHandlers = []utilruntime.ErrorHandler{
			func(ctx context.Context, err error, msg string, keysAndValues ...any) {
				klog.FromContext(ctx).V(4).Info(msg, append(keysAndValues, "err", err)...)
			},
		}
		utilruntime.ReallyCrash = false
		utilruntime.PanicHandlers = append(utilruntime.PanicHandlers, func(ctx context.Context, r any) {
			if h, ok := ctx.Value(hostKey{}).(*Host); ok {
				h.fail(fmt.Sprintf("panic: %v", r), string(debug.Stack()))
			}
		})
	})
}
