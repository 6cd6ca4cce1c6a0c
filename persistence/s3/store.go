package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// objects is the few S3 requests the engine makes, on one bucket.
type objects struct {
	c      *s3.Client
	bucket string
}

// errExists is a conditional create that found the key taken (412), or a
// conditional overwrite that found another ETag.
var errExists = errors.New("precondition failed")

// metaCP is the user metadata holding a claim's checkpoint, so that HEAD
// decides an intent without reading the claim's body.
const metaCP = "cp"

// create stores body at key if the key is free (If-None-Match: *). It
// returns errExists if it is taken, and retries a 409
// ConditionalRequestConflict, as S3 asks.
func (o *objects) create(ctx context.Context, key string, body []byte, meta map[string]string, opts ...func(*s3.Options)) (etag string, err error) {
	for try := 0; ; try++ {
		out, err := o.c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &o.bucket, Key: &key, Body: bytes.NewReader(body), IfNoneMatch: aws.String("*"),
			ContentLength: aws.Int64(int64(len(body))), Metadata: meta,
		}, opts...)
		switch code := apiCode(err); {
		case err == nil:
			return aws.ToString(out.ETag), nil
		case code == "PreconditionFailed" || status(err) == http.StatusPreconditionFailed:
			return "", errExists
		case (code == "ConditionalRequestConflict" || status(err) == http.StatusConflict) && try < 5 && ctx.Err() == nil:
			continue
		default:
			return "", err
		}
	}
}

// attempts counts the HTTP attempts of the requests it is passed to (as
// an option: create(..., a.count)), among them the SDK's own retries.
type attempts struct{ n atomic.Int32 }

func (a *attempts) count(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		// After the retry middleware: once per attempt.
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("eventstoreAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				a.n.Add(1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

// put stores body at key unconditionally, or if its ETag is ifMatch (it
// then returns errExists if the ETag differs).
func (o *objects) put(ctx context.Context, key string, body []byte, meta map[string]string, ifMatch string) (etag string, err error) {
	in := &s3.PutObjectInput{Bucket: &o.bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), Metadata: meta}
	if ifMatch != "" {
		in.IfMatch = &ifMatch
	}
	out, err := o.c.PutObject(ctx, in)
	if code := apiCode(err); err != nil && ifMatch != "" && (code == "NoSuchKey" ||
		code == "PreconditionFailed" || code == "ConditionalRequestConflict" ||
		status(err) == http.StatusPreconditionFailed || status(err) == http.StatusConflict) {
		return "", errExists
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// prefixes returns up to max common prefixes ("folders") under prefix
// after startAfter, and whether more follow.
func (o *objects) prefixes(ctx context.Context, prefix, startAfter string, max int32) (ps []string, more bool, err error) {
	in := &s3.ListObjectsV2Input{Bucket: &o.bucket, Prefix: &prefix, Delimiter: aws.String("/"), MaxKeys: &max}
	if startAfter != "" {
		in.StartAfter = &startAfter
	}
	out, err := o.c.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, err
	}
	for _, p := range out.CommonPrefixes {
		ps = append(ps, aws.ToString(p.Prefix))
	}
	return ps, aws.ToBool(out.IsTruncated), nil
}

// get returns the body and ETag of key, or found false.
func (o *objects) get(ctx context.Context, key string) (body []byte, etag string, found bool, err error) {
	out, err := o.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.bucket, Key: &key})
	if err != nil {
		if notFound(err) {
			return nil, "", false, nil
		}
		return nil, "", false, err
	}
	defer out.Body.Close()
	body, err = io.ReadAll(out.Body)
	if err != nil {
		return nil, "", false, err
	}
	return body, aws.ToString(out.ETag), true, nil
}

// head returns the user metadata and ETag of key, or found false.
func (o *objects) head(ctx context.Context, key string) (meta map[string]string, etag string, found bool, err error) {
	out, err := o.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &o.bucket, Key: &key})
	if err != nil {
		if notFound(err) {
			return nil, "", false, nil
		}
		return nil, "", false, err
	}
	return out.Metadata, aws.ToString(out.ETag), true, nil
}

// remove deletes key; a missing key is not an error.
func (o *objects) remove(ctx context.Context, key string) error {
	_, err := o.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &o.bucket, Key: &key})
	if err != nil && notFound(err) {
		return nil
	}
	return err
}

// list returns up to max keys under prefix after startAfter, in order, and
// whether more follow.
func (o *objects) list(ctx context.Context, prefix, startAfter string, max int32) (keys []string, more bool, err error) {
	in := &s3.ListObjectsV2Input{Bucket: &o.bucket, Prefix: &prefix}
	if startAfter != "" {
		in.StartAfter = &startAfter
	}
	if max > 0 {
		in.MaxKeys = &max
	}
	out, err := o.c.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, err
	}
	for _, c := range out.Contents {
		keys = append(keys, aws.ToString(c.Key))
	}
	return keys, aws.ToBool(out.IsTruncated), nil
}

// listAll calls f with each page of the keys under prefix after
// startAfter.
func (o *objects) listAll(ctx context.Context, prefix, startAfter string, f func(keys []string) error) error {
	for {
		keys, more, err := o.list(ctx, prefix, startAfter, 1000)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := f(keys); err != nil {
				return err
			}
			startAfter = keys[len(keys)-1]
		}
		if !more || len(keys) == 0 {
			return nil
		}
	}
}

// removeAll deletes keys, 1,000 per request.
func (o *objects) removeAll(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := o.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &o.bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return err
		}
		for _, e := range out.Errors {
			if aws.ToString(e.Code) != "NoSuchKey" {
				return errors.New("s3: delete " + aws.ToString(e.Key) + ": " + aws.ToString(e.Code) + " " + aws.ToString(e.Message))
			}
		}
		keys = keys[n:]
	}
	return nil
}

// apiCode returns the S3 error code of err, "" if it has none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// status returns the HTTP status of err's response, 0 if it has none.
func status(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func notFound(err error) bool {
	switch apiCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "NoSuchBucket":
		return false
	}
	return status(err) == http.StatusNotFound && apiCode(err) != "NoSuchBucket"
}
