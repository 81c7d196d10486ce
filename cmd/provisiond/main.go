// Command provisiond serves the tenant provisioning API.
//
//	provisiond [flags]            serve (see provisiond -h)
//	provisiond token --partner ID mint a development token with the dev key
//	provisiond migrate            apply database migrations and exit
//	provisiond version            print the version
//
// Every flag has an environment twin: PROVISIOND_ and the flag in upper snake case
// (--database-url → PROVISIOND_DATABASE_URL). Flags win over the environment.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "provisiond:", err)
		os.Exit(1)
	}
}
