// Command carematch is the whole system in one binary: web server,
// migrations, scheduled jobs, imports and admin helpers. See `carematch help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"carematch/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := app.Main(ctx, app.Env{Args: os.Args[1:], Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
