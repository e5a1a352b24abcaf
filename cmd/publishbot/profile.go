package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"
)

// startProfiles writes a CPU profile of the whole command to
// $PUBLISHBOT_CPUPROFILE and a heap profile at its end to
// $PUBLISHBOT_MEMPROFILE (and, in <that>.peak, the heap profile of the
// largest live heap a collection found: what the peak memory is made of),
// and an execution trace to $PUBLISHBOT_TRACE, when they are set: how the figures of README's
// Performance section say where the time and memory of a publish go. The
// returned function ends them.
func startProfiles(getenv func(string) string) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	if p := getenv("PUBLISHBOT_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return stop, fmt.Errorf("PUBLISHBOT_CPUPROFILE: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return stop, fmt.Errorf("PUBLISHBOT_CPUPROFILE: %w", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if p := getenv("PUBLISHBOT_TRACE"); p != "" {
		// an execution trace: which steps run on one core while the other
		// waits (go tool trace)
		f, err := os.Create(p)
		if err != nil {
			return stop, fmt.Errorf("PUBLISHBOT_TRACE: %w", err)
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			return stop, fmt.Errorf("PUBLISHBOT_TRACE: %w", err)
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	if p := getenv("PUBLISHBOT_MEMPROFILE"); p != "" {
		stopPeak := watchPeakHeap(p + ".peak")
		stops = append(stops, func() {
			stopPeak()
			f, err := os.Create(p)
			if err != nil {
				fmt.Fprintln(os.Stderr, "PUBLISHBOT_MEMPROFILE:", err)
				return
			}
			defer f.Close()
			// the process's memory at its end (peak, anonymous, mapped
			// files), beside the heap profile: the heap is only part of it
			st, _ := os.ReadFile("/proc/self/status")
			os.WriteFile(p+".status", append(st, memoryClasses()...), 0o644)
			runtime.GC() // the heap that is live at the end, with what was allocated on the way
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintln(os.Stderr, "PUBLISHBOT_MEMPROFILE:", err)
			}
		})
	}
	return stop, nil
}

// memoryClasses lists the Go runtime's memory by class (heap objects, free
// heap not yet returned, stacks, metadata…), one "name: MiB" per line.
func memoryClasses() []byte {
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") && d.Kind == metrics.KindUint64 {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	var b []byte
	for _, s := range samples {
		b = fmt.Appendf(b, "%s\t%.1f MiB\n", s.Name, float64(s.Value.Uint64())/(1<<20))
	}
	return b
}

// watchPeakHeap writes the in-use heap profile to path each time a
// collection finds a live heap larger than any before, checking every
// 20 ms: a heap profile describes the heap as of the last collection, so
// the file ends up describing the largest one seen. The returned function
// stops it and waits for it.
func watchPeakHeap(path string) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			if live := sample[0].Value.Uint64(); live > peak+peak/20 {
				peak = live
				if f, err := os.Create(path); err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}
