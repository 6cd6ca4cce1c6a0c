package persistence

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// An engine's own URL parameters come out of the data source with the
// portable ones, as engine options; options given in code win.
func TestParseEngineSettings(t *testing.T) {
	rest, s, err := ParseEngineSettings("x://u@h/db?table_prefix=t_&page_size=7&tls=true", []string{"table_prefix", "absent"},
		WithEngineOption("other", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if rest != "x://u@h/db?tls=true" || s.PageSize != 7 {
		t.Errorf("rest %q, settings %+v", rest, s)
	}
	if v, ok := s.String("table_prefix"); !ok || v != "t_" {
		t.Errorf("table_prefix %q %v", v, ok)
	}
	if _, ok := s.String("absent"); ok {
		t.Error("a parameter the URL lacks is set")
	}
	_, s, err = ParseEngineSettings("x://h?table_prefix=url_", []string{"table_prefix"}, WithEngineOption("table_prefix", "code_"))
	if v, _ := s.String("table_prefix"); err != nil || v != "code_" {
		t.Errorf("code option lost to the URL: %q %v", v, err)
	}
	// A DSN whose parameters follow its last "?" (go-sql-driver's form).
	rest, s, err = ParseEngineSettings("u:p@tcp(h:3306)/db?table_prefix=x_", []string{"table_prefix"})
	if v, _ := s.String("table_prefix"); err != nil || rest != "u:p@tcp(h:3306)/db" || v != "x_" {
		t.Errorf("DSN: rest %q, prefix %q, %v", rest, v, err)
	}
	// Parameters not named stay for the engine.
	rest, s, err = ParseEngineSettings("x://h?table_prefix=t", nil)
	if err != nil || rest != "x://h?table_prefix=t" || len(s.Engine) != 0 {
		t.Errorf("unnamed parameter taken: %q %v %v", rest, s.Engine, err)
	}
}

func TestSettingsAccessors(t *testing.T) {
	s, err := NewSettings(WithEngineOption("keep", "false"), WithEngineOption("wait", "3s"),
		WithEngineOption("bad_bool", "maybe"), WithEngineOption("bad_wait", "-1s"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := s.Bool("keep", true); err != nil || b {
		t.Errorf("Bool(keep) = %v, %v", b, err)
	}
	if b, err := s.Bool("unset", true); err != nil || !b {
		t.Errorf("Bool(unset) = %v, %v; want the default", b, err)
	}
	if d, err := s.Duration("wait", time.Second); err != nil || d != 3*time.Second {
		t.Errorf("Duration(wait) = %v, %v", d, err)
	}
	if d, err := s.Duration("unset", time.Second); err != nil || d != time.Second {
		t.Errorf("Duration(unset) = %v, %v; want the default", d, err)
	}
	for _, err := range []error{second(s.Bool("bad_bool", false)), second(s.Duration("bad_wait", 0))} {
		var ve *ValidationError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, "bad_") {
			t.Errorf("bad value: %v, want a ValidationError naming the option", err)
		}
	}
	err = s.Only("test", "keep", "wait")
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "bad_bool" || !strings.Contains(err.Error(), "keep, wait") {
		t.Errorf("Only: %v, want the first unknown option (bad_bool) and the known ones", err)
	}
	if err := s.Only("test", "keep", "wait", "bad_bool", "bad_wait"); err != nil {
		t.Errorf("Only with every option known: %v", err)
	}
	if err := (&Settings{}).Only("test"); err != nil {
		t.Errorf("Only without options: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

// NewEngineFrom hands the driver constructor the settings the options make,
// and passes on its error.
func TestNewEngineFrom(t *testing.T) {
	var got *Settings
	e, err := NewEngineFrom("fake", func(s *Settings) (*fakeDriver, error) {
		got = s
		return &fakeDriver{}, nil
	}, WithPageSize(9), WithEngineOption("k", "v"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.String("k"); got.PageSize != 9 || v != "v" || e.Settings().PageSize != 9 || e.Name() != "fake" {
		t.Errorf("driver saw %+v, engine %s has %+v", got, e.Name(), e.Settings())
	}
	boom := &ValidationError{Field: "k", Reason: "is wrong"}
	if _, err := NewEngineFrom("fake", func(*Settings) (*fakeDriver, error) { return nil, boom }); err != boom {
		t.Errorf("driver error: %v", err)
	}
	if _, err := NewEngineFrom("fake", func(*Settings) (*fakeDriver, error) {
		t.Error("driver made despite invalid settings")
		return &fakeDriver{}, nil
	}, WithPageSize(-1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid settings: %v", err)
	}
}
