// Command bare is the baseline of scripts/bench.sh: a bare net/http server answering every
// request with the bytes of one file, under one Content-Type. It does what no server can skip
// (parse the request, write the answer) and nothing else: no routing, no authentication, no
// logging, no metrics.
//
//	bare -addr 127.0.0.1:0 -body FILE -type application/json
//
// It prints "listening on http://ADDR" once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	bodyFile := flag.String("body", "", "file whose bytes every answer carries")
	ctype := flag.String("type", "application/json", "Content-Type of the answers")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	length := strconv.Itoa(len(body))
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", *ctype)
		h.Set("Content-Length", length)
		_, _ = w.Write(body)
	})))
}
