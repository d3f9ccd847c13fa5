// Package cli holds the command-line conventions newsdesk's commands
// share: every flag has an environment twin (NEWSDESK_ and the flag's name
// in upper case, hyphens as underscores: -in-flight is NEWSDESK_IN_FLIGHT),
// parsed strictly by peterbourgon/ff, so that a value a flag would refuse
// is an error naming the variable, never a silent default; -h prints the
// usage on stdout and succeeds; any other mistake is a UsageError, which
// commands exit with code 2.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peterbourgon/ff/v3"
)

// EnvPrefix starts the name of every flag's environment twin.
const EnvPrefix = "NEWSDESK"

// ExitUsage is the exit code of a usage error.
const ExitUsage = 2

// UsageError is a mistake on the command line or in an environment twin:
// an unknown flag, a value a flag refuses, a missing argument. Commands
// exit with ExitUsage for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// EnvName returns the environment twin of the flag named name.
func EnvName(name string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse parses args into fs, then sets each flag the command line left
// unset from its environment twin (a flag given beats its variable, which
// beats the default). With -h or -help it writes fs.Usage to stdout and
// returns flag.ErrHelp; any other error is a *UsageError. fs.Usage should
// write to fs.Output(); fs should be made with flag.ContinueOnError.
func Parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	// The flag package prints errors and the usage itself, to one output;
	// here the usage asked for goes to stdout, and errors are returned
	// for the command to print once.
	fs.SetOutput(io.Discard)
	usage := fs.Usage
	if usage == nil {
		usage = func() {
			fmt.Fprintf(fs.Output(), "usage of %s:\n", fs.Name())
			fs.PrintDefaults()
		}
	}
	fs.Usage = func() {}
	err := ff.Parse(fs, args, ff.WithEnvVarPrefix(EnvPrefix))
	fs.Usage = usage
	fs.SetOutput(stdout)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return flag.ErrHelp
	}
	// ff says which stage failed ("error parsing commandline arguments:
	// ..."); the cause alone names the flag or the variable.
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	// ff's message for a variable ("error setting flag "admin" from
	// environment variable "NEWSDESK_ADMIN": parse error") leaves out the
	// value; say it, as the flag package does for a flag.
	fs.VisitAll(func(f *flag.Flag) {
		name := EnvName(f.Name)
		if v, ok := os.LookupEnv(name); ok && strings.Contains(err.Error(), `"`+name+`"`) {
			cause := err
			if c := errors.Unwrap(err); c != nil {
				cause = c
			}
			err = fmt.Errorf("invalid value %q in %s for -%s: %w", v, name, f.Name, cause)
		}
	})
	return &UsageError{Err: err}
}

// FromEnv returns err, a command's refusal of a flag's value, saying which
// environment variable the value came from when the command line did not
// give the flag: "-max-bad must be -1 (no limit) or more, got -5 (from
// NEWSDESK_MAX_BAD="-5")". The flag is the first one err's message names
// (as -name). Other errors, and those that name the variable already,
// are returned as they are. Commands apply it to the checks they make of
// their flags' values after Parse.
func FromEnv(fs *flag.FlagSet, args []string, err error) error {
	var ue *UsageError
	if !errors.As(err, &ue) {
		return err
	}
	msg := ue.Error()
	first, at := "", len(msg)
	fs.VisitAll(func(f *flag.Flag) {
		if i := flagMention(msg, f.Name); i >= 0 && i < at {
			first, at = f.Name, i
		}
	})
	if first == "" || onCommandLine(fs, args, first) || strings.Contains(msg, EnvName(first)) {
		return err
	}
	v, ok := os.LookupEnv(EnvName(first))
	if !ok {
		return err
	}
	return &UsageError{Err: fmt.Errorf("%w (from %s=%q)", ue.Err, EnvName(first), v)}
}

// flagMention returns where msg names the flag as -name (a whole word),
// or -1.
func flagMention(msg, name string) int {
	word := "-" + name
	for from := 0; ; {
		i := strings.Index(msg[from:], word)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(word)
		before := i == 0 || !isNameByte(msg[i-1])
		after := end == len(msg) || !isNameByte(msg[end])
		if before && after {
			return i
		}
		from = end
	}
}

func isNameByte(c byte) bool {
	return c == '-' || c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// onCommandLine reports whether args give the flag name of fs (-name,
// --name, with =value or not) before the arguments that are not flags.
func onCommandLine(fs *flag.FlagSet, args []string, name string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return false
		}
		n, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if n == name {
			return true
		}
		// A flag's value may be the next argument, unless it is a
		// boolean flag's.
		if f := fs.Lookup(n); f != nil && !hasValue {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++
			}
		}
	}
	return false
}
