package s3

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// ErrNoConditionalWrites: the server stored a second conditional create
// (If-None-Match: *) of a key that existed. The engine cannot keep any of
// its guarantees on such a server, and Initialize refuses it.
var ErrNoConditionalWrites = errors.New("s3: the server ignores If-None-Match: * (conditional create)")

// Initialize creates the bucket if it does not exist, then probes that the
// server honours conditional creates: it creates a probe object twice with
// If-None-Match: * and expects the second to fail with 412, then removes
// it.
func (e *engine) Initialize(ctx context.Context) error {
	if _, err := e.o.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &e.o.bucket}); err != nil {
		if !notFound(err) && apiCode(err) != "NoSuchBucket" {
			return fmt.Errorf("s3: bucket %s: %w", e.o.bucket, err)
		}
		if _, err := e.o.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &e.o.bucket}); err != nil &&
			apiCode(err) != "BucketAlreadyOwnedByYou" && apiCode(err) != "BucketAlreadyExists" {
			return fmt.Errorf("%w: bucket %s does not exist and creating it failed: %w", errNoBucket, e.o.bucket, err)
		}
	}
	key := e.k.probe(driver.NewUUID())
	if _, err := e.o.create(ctx, key, []byte("probe"), nil); err != nil {
		return fmt.Errorf("s3: probing conditional writes with %s: %w", key, err)
	}
	_, err := e.o.create(ctx, key, []byte("probe again"), nil)
	rmErr := e.o.remove(ctx, key)
	switch {
	case err == nil:
		return fmt.Errorf("%w: a second PutObject of %s with If-None-Match: * succeeded where it must fail with 412 PreconditionFailed; use a server with atomic conditional writes (AWS S3, MinIO, a recent SeaweedFS)", ErrNoConditionalWrites, key)
	case !errors.Is(err, errExists):
		return fmt.Errorf("s3: probing conditional writes with %s: %w", key, err)
	}
	return rmErr
}

// Classify gives S3's errors their class.
func (e *engine) Classify(err error) error {
	switch {
	case errors.Is(err, ErrNoConditionalWrites):
		return driver.ErrMisconfigured
	case errors.Is(err, errNoBucket):
		return driver.ErrNotInitialized
	case errors.Is(err, errUnsettled):
		return driver.ErrStorageUnavailable
	}
	switch apiCode(err) {
	case "NoSuchBucket":
		return driver.ErrNotInitialized
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "InvalidToken", "ExpiredToken":
		return driver.ErrPermissionDenied
	case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "RequestTimeTooSkewed", "XMinioServerNotInitialized":
		return driver.ErrStorageUnavailable
	}
	switch s := status(err); {
	case s == 403:
		return driver.ErrPermissionDenied
	case s >= 500:
		return driver.ErrStorageUnavailable
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return driver.ErrStorageUnavailable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return driver.ErrStorageUnavailable
	}
	return nil
}
