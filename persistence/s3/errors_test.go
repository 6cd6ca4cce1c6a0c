package s3

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/goeventstore/eventstore/persistence"
)

// TestInitializeProbesConditionalWrites: on a server that ignores
// If-None-Match (here: a transport that strips the header from every
// request, as some S3 look-alikes ignore it), Initialize refuses to run,
// with an error naming the server's behaviour.
func TestInitializeProbesConditionalWrites(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		ft := &faultyTransport{base: newTransport(), resign: resigner(t, rawURL)}
		ft.arm(stripIfNoneMatch, 0)
		e := faultyEngine(t, rawURL, ft, true)
		err := e.Initialize(context.Background())
		if !errors.Is(err, persistence.ErrMisconfigured) || !errors.Is(err, ErrNoConditionalWrites) ||
			!strings.Contains(err.Error(), "If-None-Match") {
			t.Fatalf("Initialize on a server ignoring If-None-Match: %v; want ErrMisconfigured naming If-None-Match", err)
		}
		// The same server, honoured: fine.
		if err := faultyEngine(t, rawURL, nil, true).Initialize(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStorageErrors: a missing bucket and bad credentials each give an
// error of their class that says what is wrong.
func TestStorageErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rawURL := isolatedURL(t, kind)
		u, _ := url.Parse(rawURL)

		missing := *u
		missing.Host = "no-such-bucket-" + strings.ToLower(persistence.NewUUID().String()[:8])
		e, err := Open(ctx, missing.String())
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Commit(ctx, attempt("b", "s", 1))
		if !errors.Is(err, persistence.ErrNotInitialized) || !strings.Contains(err.Error(), "NoSuchBucket") {
			t.Errorf("Commit to a missing bucket: %v; want ErrNotInitialized naming NoSuchBucket", err)
		}
		for _, err := range e.ReadAll(ctx, 0) {
			if !errors.Is(err, persistence.ErrNotInitialized) {
				t.Errorf("ReadAll of a missing bucket: %v; want ErrNotInitialized", err)
			}
		}

		bad := *u
		q := bad.Query()
		q.Set(paramSecret, "wrong-secret")
		bad.RawQuery = q.Encode()
		e, err = Open(ctx, bad.String())
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Commit(ctx, attempt("b", "s", 1))
		if !errors.Is(err, persistence.ErrPermissionDenied) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
			t.Errorf("Commit with bad credentials: %v; want ErrPermissionDenied naming SignatureDoesNotMatch", err)
		}
		if err := e.Initialize(ctx); !errors.Is(err, persistence.ErrPermissionDenied) {
			t.Errorf("Initialize with bad credentials: %v; want ErrPermissionDenied", err)
		}
	})
}

// TestOpenURL: bad URLs and options are refused with an error naming them;
// Initialize creates a missing bucket.
func TestOpenURL(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ url, field string }{
		{"s3://", "URL"},
		{"mysql://bucket", "URL"},
		{"s3://bucket?colour=blue", "colour"},
		{"s3://bucket?endpoint=ftp%3A%2F%2Fx", "endpoint"},
		{"s3://bucket?use_path_style=maybe", "use_path_style"},
		{"s3://bucket?access_key_id=a", "access_key_id, secret_access_key"},
		{"s3://bucket?page_size=0", "page_size"},
	} {
		_, err := Open(ctx, c.url)
		var ve *persistence.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("Open(%q) = %v; want a ValidationError of field %q", c.url, err, c.field)
		}
	}
	if _, err := Open(ctx, "s3://bucket?secret_access_key=s3cr3t&access_key_id=a&colour=x"); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("an error names the secret key: %v", err)
	}
	e, err := Open(ctx, "s3://bucket/some/prefix?region=eu-west-1&op_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	if e.Settings().Timeout.String() != "2s" {
		t.Errorf("op_timeout not applied: %v", e.Settings().Timeout)
	}
	if !strings.Contains(e.String(), "s3://bucket/some/prefix/") {
		t.Errorf("String() = %q", e.String())
	}

	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		u, _ := url.Parse(rawURL)
		u.Host += "-made"
		u.Path = "/events/"
		client, bucket := testClient(t, u.String(), nil, true)
		t.Cleanup(func() { client.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &bucket}) })
		e := openIsolated(t, u.String()) // Initialize creates the bucket
		c, err := e.Commit(ctx, attempt("b", "s", 1))
		if err != nil {
			t.Fatal(err)
		}
		if got := all(t, "ReadAll", e.ReadAll(ctx, 0)); len(got) != 1 || got[0].CommitID != c.CommitID {
			t.Fatalf("ReadAll = %v", got)
		}
		if err := e.Drop(ctx); err != nil {
			t.Fatal(err)
		}
		// Drop left nothing under the prefix.
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
		if err != nil || len(out.Contents) != 0 {
			t.Fatalf("after Drop the bucket holds %d objects (%v)", len(out.Contents), err)
		}
	})
}
