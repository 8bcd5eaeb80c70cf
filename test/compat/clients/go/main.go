// The compatibility scenario with the real sentry-go: os.Args[1] is the DSN. A port that is not a
// number panics two calls deep (twice: one group), a division by zero panics elsewhere (another
// group), and one message is captured; prints {"message": id} (Recover gives no event id back).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/getsentry/sentry-go"
)

type portError struct{ raw string }

func (e *portError) Error() string { return "invalid port: " + e.raw }

func parsePort(raw string) int {
	port, err := strconv.Atoi(raw)
	if err != nil {
		panic(&portError{raw})
	}
	return port
}

func loadConfig(raw string) map[string]int {
	return map[string]int{"port": parsePort(raw)}
}

func divide(a, b int) int {
	return a / b
}

func ratio(a int) int {
	return divide(a, 0)
}

// attempt runs f and reports its panic the way sentry-go's docs show (`defer sentry.Recover()`), so
// the stack trace is the panicking goroutine's and its top application frame is the one that raised.
func attempt(f func()) {
	defer sentry.Recover()
	f()
}

func main() {
	if err := sentry.Init(sentry.ClientOptions{
		Dsn:            os.Args[1],
		Release:        "compat@1.2.3",
		Environment:    "compat",
		SendDefaultPII: true,
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sentry.ConfigureScope(func(scope *sentry.Scope) {
		scope.SetUser(sentry.User{ID: "u-42", Email: "ada@example.com", Username: "ada"})
		scope.SetTag("feature", "checkout")
		scope.AddBreadcrumb(&sentry.Breadcrumb{Category: "config", Message: "loading config", Level: sentry.LevelInfo}, 100)
	})
	out := map[string]any{}
	for _, raw := range []string{"abc", "xyz"} {
		attempt(func() { loadConfig(raw) })
	}
	attempt(func() { ratio(1) })
	if id := sentry.CaptureMessage("compat message"); id != nil {
		out["message"] = string(*id)
	}
	if !sentry.Flush(10 * time.Second) {
		fmt.Fprintln(os.Stderr, "flush timed out")
		os.Exit(1)
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
