package cli

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantErr    string // "" for none
		wantHelp   bool
		wantN      int
		wantD      time.Duration
		wantB      bool
		wantStdout string
	}{
		{"defaults", nil, nil, "", false, 1, time.Second, false, ""},
		{"flags", []string{"-n", "3", "-wait-for", "2s", "-on"}, nil, "", false, 3, 2 * time.Second, true, ""},
		{"twins", nil, map[string]string{"NEWSDESK_N": "4", "NEWSDESK_WAIT_FOR": "5s", "NEWSDESK_ON": "true"}, "", false, 4, 5 * time.Second, true, ""},
		{"a flag beats its twin", []string{"-n", "7"}, map[string]string{"NEWSDESK_N": "4"}, "", false, 7, time.Second, false, ""},
		{"a bad twin names itself", nil, map[string]string{"NEWSDESK_ON": "yes"}, `invalid value "yes" in NEWSDESK_ON for -on: parse error`, false, 0, 0, false, ""},
		{"a bad number twin", nil, map[string]string{"NEWSDESK_N": "many"}, `invalid value "many" in NEWSDESK_N for -n`, false, 0, 0, false, ""},
		{"a bad flag", []string{"-n", "x"}, nil, `invalid value "x" for flag -n`, false, 0, 0, false, ""},
		{"an unknown flag", []string{"-m"}, nil, "flag provided but not defined: -m", false, 0, 0, false, ""},
		{"help on stdout", []string{"-h"}, nil, "", true, 0, 0, false, "Usage of test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"NEWSDESK_N", "NEWSDESK_WAIT_FOR", "NEWSDESK_ON"} {
				t.Setenv(k, tc.env[k])
			}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			n := fs.Int("n", 1, "a number")
			d := fs.Duration("wait-for", time.Second, "a duration")
			b := fs.Bool("on", false, "a switch")
			var stdout bytes.Buffer
			err := Parse(fs, tc.args, &stdout)
			var ue *UsageError
			switch {
			case tc.wantHelp:
				if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stdout.String(), "-wait-for") {
					t.Errorf("-h: %v, stdout %q", err, stdout.String())
				}
			case tc.wantErr != "":
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want a UsageError containing %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("error %v", err)
			case *n != tc.wantN || *d != tc.wantD || *b != tc.wantB:
				t.Errorf("got -n %d, -wait-for %v, -on %v; want %d, %v, %v", *n, *d, *b, tc.wantN, tc.wantD, tc.wantB)
			}
			if !tc.wantHelp && stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for name, want := range map[string]string{"index": "NEWSDESK_INDEX", "in-flight": "NEWSDESK_IN_FLIGHT", "admin-key-file": "NEWSDESK_ADMIN_KEY_FILE"} {
		if got := EnvName(name); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestFromEnv: a check's refusal of a value says the variable it came
// from, when the command line did not give the flag.
func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		err  error
		want string
	}{
		{"from the variable", nil, map[string]string{"NEWSDESK_MAX_BAD": "-5"},
			Usagef("build: -max-bad must be -1 or more, got -5"), `build: -max-bad must be -1 or more, got -5 (from NEWSDESK_MAX_BAD="-5")`},
		{"the first flag named", nil, map[string]string{"NEWSDESK_QUEUE": "-1", "NEWSDESK_IN_FLIGHT": "2"},
			Usagef("-queue must be 0 (twice -in-flight) or more, got -1"), `-queue must be 0 (twice -in-flight) or more, got -1 (from NEWSDESK_QUEUE="-1")`},
		{"given on the command line", []string{"-max-bad=-5"}, map[string]string{"NEWSDESK_MAX_BAD": "-7"},
			Usagef("-max-bad must be -1 or more, got -5"), "-max-bad must be -1 or more, got -5"},
		{"given as --flag value", []string{"--max-bad", "-5", "file"}, map[string]string{"NEWSDESK_MAX_BAD": "-7"},
			Usagef("-max-bad must be -1 or more, got -5"), "-max-bad must be -1 or more, got -5"},
		{"after another flag's value", []string{"-queue", "3", "-v", "-max-bad", "-5", "file"}, map[string]string{"NEWSDESK_MAX_BAD": "-7"},
			Usagef("-max-bad must be -1 or more, got -5"), "-max-bad must be -1 or more, got -5"},
		{"another flag on the command line", []string{"-queue", "3", "-v", "file"}, map[string]string{"NEWSDESK_MAX_BAD": "-7"},
			Usagef("-max-bad must be -1 or more, got -7"), `-max-bad must be -1 or more, got -7 (from NEWSDESK_MAX_BAD="-7")`},
		{"no variable", nil, nil, Usagef("-max-bad must be -1 or more, got -5"), "-max-bad must be -1 or more, got -5"},
		{"a longer flag's name is not this one", nil, map[string]string{"NEWSDESK_MAX_BAD": "1"},
			Usagef("-max-bad-ratio must be positive"), "-max-bad-ratio must be positive"},
		{"not a usage error", nil, map[string]string{"NEWSDESK_MAX_BAD": "-5"}, errors.New("-max-bad: disk full"), "-max-bad: disk full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"NEWSDESK_MAX_BAD", "NEWSDESK_QUEUE", "NEWSDESK_IN_FLIGHT"} {
				t.Setenv(k, tc.env[k])
				if _, ok := tc.env[k]; !ok {
					os.Unsetenv(k)
				}
			}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.Int("max-bad", 0, "")
			fs.Int("queue", 0, "")
			fs.Int("in-flight", 0, "")
			fs.Bool("v", false, "")
			got := FromEnv(fs, tc.args, tc.err)
			if got.Error() != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			var ue *UsageError
			if errors.As(tc.err, &ue) != errors.As(got, &ue) {
				t.Errorf("a usage error became %T", got)
			}
		})
	}
}
