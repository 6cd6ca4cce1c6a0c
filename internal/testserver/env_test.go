package testserver

import (
	"net/url"
	"testing"
)

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		env, kind string
		want      bool
	}{
		{"", MySQL, false},
		{"all", MySQL, true},
		{"ALL", Azure, true},
		{"mysql,s3", S3, true},
		{"mysql, s3", Mongo, false},
		{"all", MariaDB, true},
		{"mysql", MariaDB, false},
		{"mariadb", MariaDB, true},
		{"mariadb", MySQL, false},
		{"all", SeaweedFS, true},
		{"s3", SeaweedFS, false},
		{"seaweedfs", SeaweedFS, true},
		{"SeaweedFS,azure", SeaweedFS, true},
		{"seaweedfs", S3, false},
		{"all", FerretPG, true},
		{"mongo", FerretPG, false},
		{"ferretpg", Mongo, false},
		{"mongo,ferretpg", FerretPG, true},
	} {
		t.Setenv(envRequire, c.env)
		if got := required(c.kind); got != c.want {
			t.Errorf("%s=%q: required(%s) = %v, want %v", envRequire, c.env, c.kind, got, c.want)
		}
	}
}

func TestKinds(t *testing.T) {
	if len(Kinds) != len(specs) {
		t.Fatalf("Kinds %v, specs for %d kinds", Kinds, len(specs))
	}
	for _, k := range Kinds {
		if specs[k] == nil {
			t.Errorf("kind %q has no spec", k)
		}
	}
	if urlVar(MariaDB) != "EVENTSTORE_MARIADB_URL" || imageVar(MariaDB) != "EVENTSTORE_MARIADB_IMAGE" {
		t.Errorf("MariaDB variables %s, %s", urlVar(MariaDB), imageVar(MariaDB))
	}
	if specs[MySQL].image == specs[MariaDB].image || specs[MySQL].sub == specs[MariaDB].sub {
		t.Errorf("MySQL and MariaDB share an image")
	}
	if urlVar(SeaweedFS) != "EVENTSTORE_SEAWEEDFS_URL" || imageVar(SeaweedFS) != "EVENTSTORE_SEAWEEDFS_IMAGE" {
		t.Errorf("SeaweedFS variables %s, %s", urlVar(SeaweedFS), imageVar(SeaweedFS))
	}
	if specs[S3].image == specs[SeaweedFS].image || specs[S3].sub == specs[SeaweedFS].sub {
		t.Errorf("S3 and SeaweedFS share an image")
	}
	if urlVar(FerretPG) != "EVENTSTORE_FERRETPG_URL" || imageVar(FerretPG) != "EVENTSTORE_FERRETPG_IMAGE" {
		t.Errorf("FerretPG variables %s, %s", urlVar(FerretPG), imageVar(FerretPG))
	}
	if specs[Mongo].image == specs[FerretPG].image || specs[Mongo].sub == specs[FerretPG].sub {
		t.Errorf("Mongo and FerretPG share an image")
	}
}

func TestURLForms(t *testing.T) {
	for kind, sp := range specs {
		a, err := sp.open(sp.base(4242))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		defer a.close()
		u, err := url.Parse(a.isolated("es0123"))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		switch kind {
		case MySQL, MariaDB, Mongo:
			if u.Host != "127.0.0.1:4242" || u.Path != "/es0123" {
				t.Errorf("%s: isolated URL %s, want host 127.0.0.1:4242 and path /es0123", kind, u)
			}
		case S3, SeaweedFS:
			q := u.Query()
			if u.Host != "es0123" || q.Get("endpoint") != "http://127.0.0.1:4242" || q.Get("use_path_style") != "true" ||
				q.Get("access_key_id") == "" || q.Get("secret_access_key") == "" || q.Get("region") == "" {
				t.Errorf("%s: isolated URL %s", kind, u)
			}
		case Azure:
			q := u.Query()
			if u.Host != "es0123" || q.Get("endpoint") != "http://127.0.0.1:4242/devstoreaccount1" ||
				q.Get("account") != "devstoreaccount1" || q.Get("account_key") != azuriteKey {
				t.Errorf("%s: isolated URL %s", kind, u)
			}
		}
	}
}
