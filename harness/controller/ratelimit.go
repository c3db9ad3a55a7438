package controller

import (
	"math"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/sim"
)

// InfDuration is the delay a rate limiter returns when an item may never be retried
// (a bucket limiter with no refill or no burst). AddAfter treats it, and any
// delay whose ready time would overflow, as "park until something earlier
// arrives" and schedules no event for it.
const InfDuration = time.Duration(math.MaxInt64)

// RateLimiter decides how long an item waits before it is retried. It mirrors
// client-go's TypedRateLimiter so that controllers ported from upstream keep
// their retry behaviour.
type RateLimiter[T comparable] interface {
	// When returns how long item must wait before its next retry, and counts
	// the retry (it is not a pure query).
	When(item T) time.Duration
	// Forget clears the item's failure history: the next When starts over.
	// It does not give back bucket tokens, as in client-go.
	Forget(item T)
	// NumRequeues is how many times When has been called for the item since
	// it was last forgotten.
	NumRequeues(item T) int
}

// ItemExponentialFailureRateLimiter backs off per item: base, 2*base, 4*base,
// … up to maxDelay. Items do not affect each other.
type ItemExponentialFailureRateLimiter[T comparable] struct {
	base, maxDelay time.Duration
	failures       map[T]int
}

// NewItemExponentialFailureRateLimiter returns a limiter whose n-th When for an
// item (counting from zero) is base*2^n, capped at maxDelay.
func NewItemExponentialFailureRateLimiter[T comparable](base, maxDelay time.Duration) *ItemExponentialFailureRateLimiter[T] {
	return &ItemExponentialFailureRateLimiter[T]{base: base, maxDelay: maxDelay, failures: map[T]int{}}
}

// When returns base*2^failures (capped at maxDelay) and counts one more failure.
func (r *ItemExponentialFailureRateLimiter[T]) When(item T) time.Duration {
	exp := r.failures[item]
	r.failures[item] = exp + 1
	return backoff(r.base, r.maxDelay, exp)
}

// backoff is base*2^exp capped at maxDelay, computed without overflowing: the
// failure count grows without bound for an item that keeps failing.
func backoff(base, maxDelay time.Duration, exp int) time.Duration {
	if base <= 0 {
		return 0
	}
	if exp >= 63 || base > maxDelay>>uint(exp) {
		return maxDelay
	}
	return base << uint(exp)
}

// Forget resets the item's failure count.
func (r *ItemExponentialFailureRateLimiter[T]) Forget(item T) { delete(r.failures, item) }

// NumRequeues is the item's failure count.
func (r *ItemExponentialFailureRateLimiter[T]) NumRequeues(item T) int { return r.failures[item] }

// BucketRateLimiter is an overall token bucket shared by all items, in virtual
// time. It reproduces golang.org/x/time/rate's Limiter.Reserve().Delay(),
// which client-go's BucketRateLimiter uses: a reservation always succeeds and
// may drive the bucket negative, so a burst of retries is spread out at qps.
type BucketRateLimiter[T comparable] struct {
	w      *sim.World
	qps    float64
	burst  int
	tokens float64
	last   time.Duration
}

// NewBucketRateLimiter returns a bucket that holds at most burst tokens,
// refills at qps tokens per virtual second and starts full. qps = +Inf means
// no limit; qps <= 0 means the burst is all there will ever be.
func NewBucketRateLimiter[T comparable](w *sim.World, qps float64, burst int) *BucketRateLimiter[T] {
	return &BucketRateLimiter[T]{w: w, qps: qps, burst: burst, tokens: float64(burst), last: w.Elapsed()}
}

// When takes one token and returns how long until that token exists (zero if
// the bucket had one). The item is ignored: the bucket is shared.
func (r *BucketRateLimiter[T]) When(T) time.Duration {
	if math.IsInf(r.qps, 1) {
		return 0
	}
	now := r.w.Elapsed()
	if r.qps <= 0 {
		// x/time/rate with a zero limit hands out the burst once, then
		// refuses; a refused reservation's Delay is infinite.
		if r.tokens >= 1 {
			r.tokens--
			return 0
		}
		return InfDuration
	}
	if r.burst <= 0 {
		return InfDuration // a reservation larger than the burst is refused
	}
	// Refill for the time since the last reservation, capped at burst.
	if now > r.last {
		r.tokens = math.Min(r.tokens+(now-r.last).Seconds()*r.qps, float64(r.burst))
	}
	r.last = now
	r.tokens--
	if r.tokens >= 0 {
		return 0
	}
	wait := -r.tokens / r.qps * float64(time.Second)
	if wait >= float64(math.MaxInt64) {
		return InfDuration
	}
	return time.Duration(wait)
}

// Forget does nothing: tokens are not per item.
func (r *BucketRateLimiter[T]) Forget(T) {}

// NumRequeues is always zero: the bucket does not track items.
func (r *BucketRateLimiter[T]) NumRequeues(T) int { return 0 }

// MaxOfRateLimiter combines limiters: an item waits as long as the strictest
// one says.
type MaxOfRateLimiter[T comparable] struct {
	limiters []RateLimiter[T]
}

// NewMaxOfRateLimiter returns a limiter over the given ones.
func NewMaxOfRateLimiter[T comparable](limiters ...RateLimiter[T]) *MaxOfRateLimiter[T] {
	return &MaxOfRateLimiter[T]{limiters: limiters}
}

// When calls every limiter (each must count the retry, even when another one
// decides the delay) and returns the longest delay.
func (r *MaxOfRateLimiter[T]) When(item T) time.Duration {
	var d time.Duration
	for _, l := range r.limiters {
		d = max(d, l.When(item))
	}
	return d
}

// Forget forwards to every limiter.
func (r *MaxOfRateLimiter[T]) Forget(item T) {
	for _, l := range r.limiters {
		l.Forget(item)
	}
}

// NumRequeues is the largest count any limiter reports.
func (r *MaxOfRateLimiter[T]) NumRequeues(item T) int {
	n := 0
	for _, l := range r.limiters {
		n = max(n, l.NumRequeues(item))
	}
	return n
}

// DefaultControllerRateLimiter is client-go's default: per-item exponential
// backoff from 5ms to 1000s, and an overall bucket of 10 qps with a burst of
// 100 (which only matters when many items fail at once).
func DefaultControllerRateLimiter[T comparable](w *sim.World) RateLimiter[T] {
	return NewMaxOfRateLimiter[T](
		NewItemExponentialFailureRateLimiter[T](5*time.Millisecond, 1000*time.Second),
		NewBucketRateLimiter[T](w, 10, 100),
	)
}
