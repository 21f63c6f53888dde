// Peers of sentry-auth-bench: Go's golang.org/x/time/rate with the Sentry limit (one token a
// second, burst 60), timed like sentry-auth-bench (calibrated ~2 ms batches, the median of 101;
// 0.3 ms and 21 with --quick), printed as "name ns_per_op". Built in GOPATH mode against Debian's
// golang-golang-x-time-dev by peers.sh.
package main

import (
	"fmt"
	"os"
	"sort"
	"time"

	"golang.org/x/time/rate"
)

var sink int

func measure(name string, quick bool, run func(iterations int)) {
	target := 2 * time.Millisecond
	batches := 101
	if quick {
		target, batches = 300*time.Microsecond, 21
	}
	run(1000)
	iterations := 1
	for {
		start := time.Now()
		run(iterations)
		if time.Since(start) >= target || iterations > 1<<40 {
			break
		}
		iterations *= 2
	}
	samples := make([]float64, batches)
	for i := range samples {
		start := time.Now()
		run(iterations)
		samples[i] = float64(time.Since(start).Nanoseconds()) / float64(iterations)
	}
	sort.Float64s(samples)
	fmt.Printf("%s %.1f\n", name, samples[batches/2])
}

func sentry() *rate.Limiter { return rate.NewLimiter(rate.Every(time.Second), 60) }

// The same 28-character key IDs as sentry-auth-bench's realKeyIDs: "key_" and 24 hex digits from
// the same xorshift sequence.
func keyIDs(count int) []string {
	state := uint64(0xD1B54A32D192ED03)
	ids := make([]string, count)
	for i := range ids {
		digits := make([]byte, 24)
		for d := range digits {
			digits[d] = "0123456789abcdef"[randomIndex(&state, 16)]
		}
		ids[i] = "key_" + string(digits)
	}
	return ids
}

func randomIndex(state *uint64, below int) int {
	*state ^= *state << 13
	*state ^= *state >> 7
	*state ^= *state << 17
	return int(((*state >> 32) * uint64(below)) >> 32)
}

func main() {
	quick := len(os.Args) > 1 && os.Args[1] == "--quick"
	base := time.Now()

	allowed := sentry()
	now := base
	measure("peer.go-rate.allowN", quick, func(n int) {
		for i := 0; i < n; i++ {
			now = now.Add(time.Second)
			if allowed.AllowN(now, 1) {
				sink++
			}
		}
	})

	refused := sentry()
	refused.AllowN(base, 60)
	measure("peer.go-rate.allowN.refused", quick, func(n int) {
		for i := 0; i < n; i++ {
			if refused.AllowN(base, 1) {
				sink++
			}
		}
	})

	clocked := sentry()
	measure("peer.go-rate.allow.clock", quick, func(n int) {
		for i := 0; i < n; i++ {
			if clocked.Allow() {
				sink++
			}
		}
	})

	ids := keyIDs(100000)
	limiters := make(map[string]*rate.Limiter, len(ids))
	for _, id := range ids {
		limiters[id] = sentry()
		limiters[id].AllowN(base, 1)
	}
	many := base
	state := uint64(0x9E3779B97F4A7C15)
	measure("peer.go-rate.100000keys", quick, func(n int) {
		for i := 0; i < n; i++ {
			many = many.Add(500 * time.Microsecond)
			if limiters[ids[randomIndex(&state, len(ids))]].AllowN(many, 1) {
				sink++
			}
		}
	})
}
