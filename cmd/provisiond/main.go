// Command provisiond serves the tenant provisioning API.
//
//	provisiond [serve] [flags]    serve (see provisiond help)
//	provisiond token --partner ID mint a development token with the key of provisiond --dev
//	provisiond migrate            apply database migrations and exit
//	provisiond partners …         register, list and change partners on the database
//	provisiond api-keys …         issue, list and revoke API keys on the database
//	provisiond version            print the version
//	provisiond help [command]     print the commands and flags, or a command's
//
// Every flag has an environment twin: PROVISIOND_ and the flag in upper snake case
// (--database-url → PROVISIOND_DATABASE_URL). Flags win over the environment.
//
// Besides the API, the server runs the library's background work (provisioning.Worker): webhook
// deliveries and the purge of expired idempotency records.
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
