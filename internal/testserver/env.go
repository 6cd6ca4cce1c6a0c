package testserver

import (
	"os"
	"slices"
	"strings"
)

// Environment variables read by this package; see the package documentation.
const (
	envRequire = "EVENTSTORE_TEST_REQUIRE"
	envSkipLog = "EVENTSTORE_TEST_SKIPLOG" // set by scripts/test.sh
	envPrefix  = "EVENTSTORE_"
)

func init() {
	// REQUIRED on machines like the CI machine (see docs/testing.md): without the override,
	// testcontainers believes it runs inside a container (there is a /.dockerenv) and dials the
	// default gateway; the reaper image cannot be pulled without a registry. Set before any
	// testcontainers configuration is read.
	setDefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	setDefault("TESTCONTAINERS_RYUK_DISABLED", "true")
}

func setDefault(name, value string) {
	if _, ok := os.LookupEnv(name); !ok {
		os.Setenv(name, value)
	}
}

// urlVar and imageVar name the per-kind variables, e.g. EVENTSTORE_MYSQL_URL.
func urlVar(kind string) string   { return envPrefix + strings.ToUpper(kind) + "_URL" }
func imageVar(kind string) string { return envPrefix + strings.ToUpper(kind) + "_IMAGE" }

// required reports whether EVENTSTORE_TEST_REQUIRE asks for servers of kind, that is whether an
// unavailable server fails the test instead of skipping it.
func required(kind string) bool {
	v := strings.TrimSpace(os.Getenv(envRequire))
	if v == "" {
		return false
	}
	list := strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == ',' || r == ' ' })
	return slices.Contains(list, "all") || slices.Contains(list, kind)
}
