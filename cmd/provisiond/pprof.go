//go:build pprof

package main

// Built only with -tags pprof (scripts/bench.sh does, to profile the server under load): the
// runtime profiles on a loopback listener of their own, at the address in PROVISIOND_PPROF_ADDR.
// Release builds carry none of it.

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("PROVISIOND_PPROF_ADDR")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "provisiond: PROVISIOND_PPROF_ADDR must be a loopback address and port")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go func() { _ = http.ListenAndServe(addr, mux) }()
}
