// Command plain runs bubbles from a plain binary, through testing.MainStart:
// TestPlainBinary runs it with arguments the testing flags would reject.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ctrlsim/ctrlsim/run/bubble"
)

func main() {
	var wg sync.WaitGroup
	out := make([]string, 4)
	for i := range out {
		wg.Go(func() {
			err := bubble.Run(nil, func() {
				start := time.Now()
				time.Sleep(time.Duration(i+1) * time.Hour)
				out[i] = fmt.Sprintf("bubble %d: %s, slept %v", i, start.UTC().Format(time.DateOnly), time.Since(start))
			})
			if err != nil {
				out[i] = err.Error()
			}
		})
	}
	wg.Wait()
	for _, s := range out {
		fmt.Println(s)
	}
	err := bubble.Run(nil, func() { select {} })
	fmt.Println("deadlock:", err != nil)
	err = bubble.Run(nil, func() { panic("boom") })
	fmt.Println("panic:", err != nil)
	fmt.Println("args:", os.Args[1:])
}
