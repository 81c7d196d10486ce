// Package barrier runs functions concurrently, released at the same moment, for race tests.
package barrier

import "sync"

// Run calls fn(0) … fn(n-1) on n goroutines that wait for each other to start, and returns
// when all have returned.
func Run(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}
