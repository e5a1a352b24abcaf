package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile of the whole command to
// $PUBLISHBOT_CPUPROFILE and a heap profile at its end to
// $PUBLISHBOT_MEMPROFILE, when they are set: how the figures of README's
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
	if p := getenv("PUBLISHBOT_MEMPROFILE"); p != "" {
		stops = append(stops, func() {
			f, err := os.Create(p)
			if err != nil {
				fmt.Fprintln(os.Stderr, "PUBLISHBOT_MEMPROFILE:", err)
				return
			}
			defer f.Close()
			// the process's memory at its end (peak, anonymous, mapped
			// files), beside the heap profile: the heap is only part of it
			if st, err := os.ReadFile("/proc/self/status"); err == nil {
				os.WriteFile(p+".status", st, 0o644)
			}
			runtime.GC() // the heap that is live at the end, with what was allocated on the way
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintln(os.Stderr, "PUBLISHBOT_MEMPROFILE:", err)
			}
		})
	}
	return stop, nil
}
