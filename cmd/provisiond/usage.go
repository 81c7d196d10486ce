package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// The help texts: the commands, and each command's flags with their environment twins.

// commandsUsage lists the commands; it heads the server's help.
const commandsUsage = `provisiond serves the tenant provisioning API.

Usage:
  provisiond [serve] [flags]             serve the API (the default command)
  provisiond token --partner ID [flags]  mint a development token with the key of 'provisiond --dev'
  provisiond migrate [flags]             apply the database migrations and exit
  provisiond partners create|list|update [flags]
                                         register, list and change partners, on the database
  provisiond api-keys create|list|revoke [flags]
                                         issue, list and revoke partners' API keys, on the database
  provisiond version                     print the version
  provisiond help [command]              print this help, or a command's
`

const tokenUsage = `Usage: provisiond token --partner ID [flags]

Mints a bearer token signed by the development key that 'provisiond --dev' keeps beside its
database, so the same --database-url (or PROVISIOND_DATABASE_URL) finds it. For local work only.
`

const migrateUsage = `Usage: provisiond migrate [flags]

Applies the database migrations the database lacks, then exits.
`

// commandList names the commands in errors.
const commandList = "serve, token, migrate, partners, api-keys, version, help"

// newFlagSet returns a flag set whose -h prints head, then every flag with its environment
// twin. Flags report errors to stderr.
func newFlagSet(name, head string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printUsage(fs.Output(), fs, head) }
	return fs
}

// printUsage prints head and the flags of fs, each with its environment twin.
func printUsage(w io.Writer, fs *flag.FlagSet, head string) {
	fmt.Fprint(w, head)
	fmt.Fprintf(w, "\nFlags of %s. Each has an environment twin, PROVISIOND_ and the flag in upper snake case;\nflags win over the environment.\n\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintf(w, "%-36s $%s\n      %s", line, envName(f.Name), usage)
		switch f.DefValue {
		case "", "0", "false", "0s":
		default:
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// runHelp prints the help of the server, or of the command args names, to stdout.
func runHelp(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 1 {
		return fmt.Errorf("help: one command at most, got %s", strings.Join(args, " "))
	}
	cmd := "serve"
	if len(args) == 1 {
		cmd = args[0]
	}
	switch cmd {
	case "serve", "token", "migrate":
		return run(ctx, []string{cmd, "-h"}, getenv, stdout, stdout)
	case "partners", "api-keys":
		_, err := fmt.Fprint(stdout, platformUsage[cmd])
		return err
	case "version", "help":
		_, err := fmt.Fprint(stdout, commandsUsage)
		return err
	}
	return fmt.Errorf("help: unknown command %q (commands: %s)", cmd, commandList)
}
